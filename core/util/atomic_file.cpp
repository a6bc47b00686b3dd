// Temp-file-and-rename writes (see atomic_file.h).
#include "core/util/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace cwb {
namespace {

namespace fs = std::filesystem;

std::string systemError() { return std::strerror(errno); }

// Creates an empty file with a name no one else uses; returns its path.
std::string createTempBeside(const fs::path& destination) {
    static std::atomic<unsigned> counter{0};
    const fs::path folder = destination.has_parent_path() ? destination.parent_path() : fs::path(".");
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::string name = destination.filename().string();
        name.insert(0, 1, '.');
        name.append(".tmp-").append(std::to_string(getpid())).append("-").append(std::to_string(counter++));
        const fs::path temp = folder / name;
        const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            ::close(fd);
            return temp.string();
        }
        if (errno != EEXIST)
            throw Error(destination.string() + ": cannot create a temporary file in " + folder.string() + " (" +
                        systemError() + "); check that the folder exists and is writable");
    }
    throw Error(destination.string() + ": cannot find a free temporary file name in " + folder.string());
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
    const bool same = fs::exists(destination, ec) && fs::exists(source, ec)
                          ? fs::equivalent(destination, source, ec)
                          : fs::weakly_canonical(destination, ec) == fs::weakly_canonical(source, ec);
    if (same)
        throw Error(destination + ": refusing to overwrite the model's source file " + source +
                    "; choose another output path");
}

void writeFileAtomically(const std::string& path, const std::function<void(const std::string& tempPath)>& write,
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
    const fs::path folder = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
    syncPath(folder.string(), O_RDONLY | O_DIRECTORY);
}

}  // namespace cwb
