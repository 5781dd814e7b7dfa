// Files that appear atomically: bytes go to a hidden temporary file in the target directory,
// which is fsync'd and then renamed to its final name, never replacing an existing file. A
// watcher therefore sees either nothing or the complete file under the final name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "output_buffer.hpp"

namespace eventgen {

class FileSink {
  public:
    // Creates ".<prefix>_<pid>_<n><extension>.tmp" in `dir`; buffered bytes are written to it in
    // chunks of about `write_chunk` bytes. Throws std::system_error.
    FileSink(const std::string &dir, std::string_view prefix, std::string_view extension,
             size_t write_chunk);
    // Removes the temporary file unless it was published.
    ~FileSink();
    FileSink(const FileSink &) = delete;
    FileSink &operator=(const FileSink &) = delete;

    OutputBuffer &buffer() { return buffer_; }
    void write_if_full() {
        if (buffer_.size() >= write_chunk_) write_buffer();
    }
    // Writes what is buffered and fsyncs; call before publish_as.
    void finish();
    uint64_t size() const { return bytes_written_ + buffer_.size(); }

    // Renames the temporary file to `path` (in the same directory) unless `path` exists; false
    // if it does.
    bool publish_as(const std::string &path);
    // Removes the temporary file now.
    void discard();

  private:
    void write_buffer();

    std::string temp_path_;
    int fd_ = -1;
    bool temp_exists_ = false;  // still under temp_path_: removed unless published
    size_t write_chunk_;
    OutputBuffer buffer_;
    uint64_t bytes_written_ = 0;
};

// Makes renames in `dir` durable.
void fsync_directory(const std::string &dir);

}  // namespace eventgen
