// Direct, double-buffered file output (see sequential_writer.h).
#include "core/util/sequential_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace cwb {

namespace {

constexpr std::size_t kAlign = 4096;  // O_DIRECT's offsets, lengths and addresses
constexpr std::size_t kBufferBytes = std::size_t(32) << 20;

}  // namespace

void SequentialWriter::FreeBuffer::operator()(std::byte* p) const { std::free(p); }

SequentialWriter::SequentialWriter(const std::string& path, std::uint64_t expectedBytes)
    : m_path(path),
      m_bufferBytes(expectedBytes > 0 && expectedBytes < kBufferBytes
                        ? static_cast<std::size_t>((expectedBytes + kAlign - 1) / kAlign * kAlign)
                        : kBufferBytes) {
    for (auto& buffer : m_buffers) {
        buffer.reset(static_cast<std::byte*>(std::aligned_alloc(kAlign, m_bufferBytes)));
        if (!buffer) throw Error(path + ": no memory for the write buffers");
    }
    m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0666);
    m_direct = m_fd >= 0;
    if (m_fd < 0 && errno == EINVAL)  // a file system without direct I/O
        m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (m_fd < 0) throw Error(path + ": cannot create the file (" + std::strerror(errno) + ")");
}

SequentialWriter::~SequentialWriter() {
    try {
        waitPending();
    } catch (...) {  // the error was or will be reported by write()/finish()
    }
    if (m_fd >= 0) ::close(m_fd);
}

void SequentialWriter::writeAt(const std::byte* data, std::size_t bytes, std::uint64_t offset) {
    while (bytes > 0) {
        const ssize_t n = ::pwrite(m_fd, data, bytes, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EINVAL && m_direct) {  // direct I/O refused after all
            m_direct = false;
            ::fcntl(m_fd, F_SETFL, ::fcntl(m_fd, F_GETFL) & ~O_DIRECT);
            continue;
        }
        if (n <= 0)
            throw Error(m_path + ": cannot write (" +
                        std::string(n < 0 ? std::strerror(errno) : "no space written") +
                        "); is the disk full?");
        data += n;
        bytes -= static_cast<std::size_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
}

void SequentialWriter::waitPending() {
    if (m_pending.valid()) m_pending.get();
}

void SequentialWriter::flushFull() {
    waitPending();  // the other buffer is free again
    const std::byte* data = m_buffers[m_current].get();
    const std::uint64_t offset = m_offset;
    m_pending = std::async(std::launch::async,
                           [this, data, offset] { writeAt(data, m_bufferBytes, offset); });
    m_offset += m_bufferBytes;
    m_current ^= 1;
    m_filled = 0;
}

void SequentialWriter::write(const void* data, std::size_t bytes) {
    const auto* in = static_cast<const std::byte*>(data);
    while (bytes > 0) {
        const std::size_t n = std::min(bytes, m_bufferBytes - m_filled);
        std::memcpy(m_buffers[m_current].get() + m_filled, in, n);
        m_filled += n;
        in += n;
        bytes -= n;
        if (m_filled == m_bufferBytes) flushFull();
    }
}

void SequentialWriter::finish() {
    waitPending();
    const std::uint64_t size = m_offset + m_filled;
    // Direct I/O writes whole aligned blocks: the tail is padded, then cut off.
    const std::size_t padded = (m_filled + kAlign - 1) / kAlign * kAlign;
    std::memset(m_buffers[m_current].get() + m_filled, 0, padded - m_filled);
    writeAt(m_buffers[m_current].get(), padded, m_offset);
    m_filled = 0;
    m_offset = size;
    if (::ftruncate(m_fd, static_cast<off_t>(size)) != 0)
        throw Error(m_path + ": cannot set the file's size (" + std::strerror(errno) + ")");
}

}  // namespace cwb
