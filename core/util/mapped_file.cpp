// mmap(2) behind MappedFile (see mapped_file.h).
#include "core/util/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "core/error.h"

namespace cwb {

namespace {

// Page-aligned [begin, end) covering [offset, offset + bytes) inside a mapping of `size`.
void pageRange(std::size_t size, std::size_t offset, std::size_t bytes, std::size_t& begin,
               std::size_t& length) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    if (offset >= size) {
        begin = length = 0;
        return;
    }
    const std::size_t end = bytes > size - offset ? size : offset + bytes;
    begin = offset / page * page;
    length = end - begin;
}

// Every live mapping by its first byte, so that a tensor (which knows its bytes, not its
// storage) can be found in its file.
std::mutex g_mappingsLock;
std::map<const std::byte*, const MappedFile*> g_mappings;

void registerMapping(const MappedFile* file, bool add) {
    if (!file->data()) return;
    const std::lock_guard<std::mutex> lock(g_mappingsLock);
    if (add)
        g_mappings[file->data()] = file;
    else
        g_mappings.erase(file->data());
}

// The live mapping that holds `p`, or nullptr. The caller holds a tensor whose storage keeps
// the mapping alive while it asks.
const MappedFile* mappingOf(const std::byte* p) {
    if (!p) return nullptr;
    const std::lock_guard<std::mutex> lock(g_mappingsLock);
    auto it = g_mappings.upper_bound(p);
    if (it == g_mappings.begin()) return nullptr;
    --it;
    const MappedFile* file = it->second;
    return p < file->data() + file->size() ? file : nullptr;
}

}  // namespace

MappedFile::MappedFile(const std::string& path) : m_path(path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        throw Error(path + (err == ENOENT
                                ? ": file not found"
                                : ": cannot open (" + std::string(std::strerror(err)) + ")"));
    }
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        ::close(fd);
        throw Error(path + ": is not a regular file; give the path of a file");
    }
    m_size = static_cast<std::size_t>(info.st_size);
    if (m_size > 0) {
        void* p = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw Error(path + ": cannot map the file into memory (" + std::strerror(err) + ")");
        }
        m_data = static_cast<std::byte*>(p);
        registerMapping(this, true);
    }
    m_fd = fd;
}

MappedFile::~MappedFile() {
    registerMapping(this, false);
    if (m_data) ::munmap(m_data, m_size);
    ::close(m_fd);
}

void MappedFile::read(std::size_t offset, std::size_t bytes, std::byte* out) const {
    for (std::size_t done = 0; done < bytes;) {
        const ssize_t n =
            ::pread(m_fd, out + done, bytes - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            throw Error(m_path +
                        (n == 0 ? ": the file is shorter than when it was opened; open it again"
                                : ": cannot read (" + std::string(std::strerror(errno)) + ")"));
        done += static_cast<std::size_t>(n);
    }
}

void MappedFile::willNeed(std::size_t offset, std::size_t bytes) const {
    std::size_t begin, length;
    pageRange(m_size, offset, bytes, begin, length);
    if (length) ::madvise(m_data + begin, length, MADV_WILLNEED);
}

void MappedFile::dontNeed(std::size_t offset, std::size_t bytes) const {
    std::size_t begin, length;
    pageRange(m_size, offset, bytes, begin, length);
    if (length) ::madvise(m_data + begin, length, MADV_DONTNEED);
}

std::shared_ptr<MappedStorage> mapFile(const std::string& path) {
    return std::make_shared<MappedStorage>(path);
}

std::size_t mappedBytes(const Tensor& tensor) {
    return mappingOf(tensor.bytes()) ? tensor.byteSize() : 0;
}

const MappedFile* mappedFileOf(const Tensor& tensor) { return mappingOf(tensor.bytes()); }

const std::byte* tensorBytes(const Tensor& tensor, std::size_t offset, std::size_t bytes,
                             std::vector<std::byte>& scratch) {
    const MappedFile* file = mappingOf(tensor.bytes());
    if (!file) return tensor.bytes() + offset;
    if (scratch.size() < bytes) scratch.resize(bytes);
    file->read(static_cast<std::size_t>(tensor.bytes() - file->data()) + offset, bytes,
               scratch.data());
    return scratch.data();
}

void releaseResident(const Tensor& tensor) {
    // Only a read-only file mapping may be dropped: the same call on owned memory would
    // zero it.
    if (const MappedFile* file = mappingOf(tensor.bytes()))
        file->dontNeed(static_cast<std::size_t>(tensor.bytes() - file->data()), tensor.byteSize());
}

}  // namespace cwb
