#include "file_sink.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <system_error>

namespace eventgen {
namespace {

[[noreturn]] void throw_errno(const std::string &what) {
    throw std::system_error(errno, std::generic_category(), what);
}

// Numbers temporary files of this process, so concurrent sinks never share one.
std::atomic<uint64_t> temp_file_counter{0};

// Headroom over the write chunk so that a row never has to grow the buffer.
constexpr size_t kBufferHeadroom = 64 << 10;

}  // namespace

FileSink::FileSink(const std::string &dir, std::string_view prefix, std::string_view extension,
                   size_t write_chunk)
    : write_chunk_(write_chunk), buffer_(write_chunk + kBufferHeadroom) {
    // O_EXCL: a stale temporary file of a killed run with the same pid is skipped, not reused.
    for (;;) {
        temp_path_ = (std::filesystem::path(dir) / fmt::format(".{}_{}_{}{}.tmp", prefix, getpid(),
                                                               temp_file_counter++, extension))
                         .string();
        fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd_ >= 0) {
            temp_exists_ = true;
            return;
        }
        if (errno != EEXIST) throw_errno("cannot create " + temp_path_);
    }
}

FileSink::~FileSink() {
    discard();
}

void FileSink::write_buffer() {
    const char *data = buffer_.data();
    size_t left = buffer_.size();
    while (left > 0) {
        const ssize_t written = ::write(fd_, data, left);
        if (written < 0) {
            if (errno == EINTR) continue;
            throw_errno("cannot write " + temp_path_);
        }
        data += written;
        left -= static_cast<size_t>(written);
    }
    bytes_written_ += buffer_.size();
    buffer_.clear();
}

void FileSink::finish() {
    write_buffer();
    if (::fsync(fd_) != 0) throw_errno("cannot fsync " + temp_path_);
}

bool FileSink::publish_as(const std::string &path) {
    if (::renameat2(AT_FDCWD, temp_path_.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST) return false;
        if (errno != EINVAL && errno != ENOSYS) throw_errno("cannot rename to " + path);
        // The filesystem lacks RENAME_NOREPLACE: link() also refuses to replace, atomically.
        if (::link(temp_path_.c_str(), path.c_str()) != 0) {
            if (errno == EEXIST) return false;
            throw_errno("cannot link to " + path);
        }
        ::unlink(temp_path_.c_str());
    }
    temp_exists_ = false;
    ::close(fd_);
    fd_ = -1;
    return true;
}

void FileSink::discard() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    if (temp_exists_) {
        ::unlink(temp_path_.c_str());
        temp_exists_ = false;
    }
}

void fsync_directory(const std::string &dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_errno("cannot open directory " + dir);
    const int result = ::fsync(fd);
    const int saved_errno = errno;
    ::close(fd);
    errno = saved_errno;
    if (result != 0) throw_errno("cannot fsync directory " + dir);
}

}  // namespace eventgen
