// Temp-file-and-rename writes (see atomic_file.h).
#include "core/util/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace cwb {
namespace {

namespace fs = std::filesystem;

std::string systemError() { return std::strerror(errno); }

// Temporary files for `destination` are named .NAME.tmp-PID-N: hidden, and never taken for
// the output.
std::string tempPrefix(const fs::path& destination) {
    std::string prefix = destination.filename().string();
    prefix.insert(0, 1, '.');  // not "." + name: GCC 12 warns falsely (-Wrestrict) on that
    return prefix.append(".tmp-");
}

// Creates an empty file with a name no one else uses; returns its path.
std::string createTempBeside(const fs::path& destination) {
    static std::atomic<unsigned> counter{0};
    const fs::path folder =
        destination.has_parent_path() ? destination.parent_path() : fs::path(".");
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::string name = tempPrefix(destination);
        name.append(std::to_string(getpid())).append("-").append(std::to_string(counter++));
        const fs::path temp = folder / name;
        const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            ::close(fd);
            return temp.string();
        }
        if (errno != EEXIST)
            throw Error(destination.string() + ": cannot create a temporary file in " +
                        folder.string() + " (" + systemError() +
                        "); check that the folder exists and is writable");
    }
    throw Error(destination.string() + ": cannot find a free temporary file name in " +
                folder.string());
}

// Removes temporary files a killed writer left for `destination`. A name whose process
// still runs (another writer, or a reused pid) is kept.
void removeStaleTemps(const fs::path& destination) {
    const fs::path folder =
        destination.has_parent_path() ? destination.parent_path() : fs::path(".");
    const std::string prefix = tempPrefix(destination);
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string rest = name.substr(prefix.size());
        const auto dash = rest.find('-');
        if (dash == std::string::npos || dash == 0 ||
            rest.find_first_not_of("0123456789-") != std::string::npos)
            continue;
        const long pid = std::strtol(rest.substr(0, dash).c_str(), nullptr, 10);
        if (pid <= 0 || pid == getpid())
            continue;  // ours may be another thread's write in progress
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // still running
        fs::remove(entry.path(), ec);
    }
}

void syncPath(const std::string& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

void refuseToOverwriteSource(const std::string& destination, const std::string& source) {
    if (source.empty() || destination.empty()) return;
    std::error_code ec;
    const bool same =
        fs::exists(destination, ec) && fs::exists(source, ec)
            ? fs::equivalent(destination, source, ec)
            : fs::weakly_canonical(destination, ec) == fs::weakly_canonical(source, ec);
    if (same)
        throw Error(destination + ": refusing to overwrite the model's source file " + source +
                    "; choose another output path");
}

void writeFileAtomically(const std::string& path,
                         const std::function<void(const std::string& tempPath)>& write,
                         const std::string& protectedSource) {
    if (path.empty()) throw Error("no output path given");
    refuseToOverwriteSource(path, protectedSource);
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw Error(path + ": is a folder; give a file name to write");
    const std::string temp = createTempBeside(fs::path(path));
    try {
        write(temp);
        // Keep the permissions of a file being replaced.
        struct stat existing;
        if (::stat(path.c_str(), &existing) == 0) ::chmod(temp.c_str(), existing.st_mode & 07777);
        syncPath(temp, O_RDONLY);
        if (::rename(temp.c_str(), path.c_str()) != 0)
            throw Error(path + ": cannot replace the file (" + systemError() + ")");
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
    const fs::path folder =
        fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
    syncPath(folder.string(), O_RDONLY | O_DIRECTORY);
    removeStaleTemps(fs::path(path));
}

void writeBytesAtomically(const std::string& path, std::string_view bytes,
                          const std::string& protectedSource) {
    writeFileAtomically(
        path,
        [&](const std::string& temp) {
            const int fd = ::open(temp.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
            if (fd < 0) throw Error(path + ": cannot write (" + systemError() + ")");
            std::size_t done = 0;
            while (done < bytes.size()) {
                const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) {
                    const std::string reason = systemError();
                    ::close(fd);
                    throw Error(path + ": cannot write (" + reason + "); is the disk full?");
                }
                done += static_cast<std::size_t>(n);
            }
            if (::close(fd) != 0)
                throw Error(path + ": cannot write (" + systemError() + "); is the disk full?");
        },
        protectedSource);
}

}  // namespace cwb
