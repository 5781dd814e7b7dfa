// Compressed data files (.gz, .zst) read as the stream of their uncompressed bytes, so that the
// CSV reader, offsets and line numbers work on the uncompressed text.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/csv/csv_reader.hpp"

namespace pg_ingest {

enum class Compression { kNone, kGzip, kZstd };

// By the file name's suffix: ".gz" gzip (any number of members), ".zst" zstd (any number of
// frames).
Compression compression_of(std::string_view file_name);

// Reads a file descriptor with pread from its own position: several readers can share one
// descriptor. Does not own it.
class PreadByteSource : public ByteSource {
  public:
    PreadByteSource(int fd, uint64_t offset) : fd_(fd), offset_(offset) {}
    size_t read(char *buf, size_t size) override;

  private:
    int fd_;
    uint64_t offset_;
};

// The uncompressed bytes of `compressed`. Throws std::runtime_error for corrupt data and for
// input that ends inside a stream (a truncated file).
std::unique_ptr<ByteSource> make_decompressor(Compression compression, ByteSource &compressed);

// Reads and drops `count` bytes, to resume at an uncompressed offset. Throws std::runtime_error
// if the input ends first.
void skip_bytes(ByteSource &source, uint64_t count);

// Reads uncompressed bytes at any offset of a compressed file: forward from the last read, or
// from the start again for an earlier offset. For the raw text of rejected lines.
class UncompressedReader {
  public:
    UncompressedReader(int fd, Compression compression) : fd_(fd), compression_(compression) {}
    // Up to `size` bytes at `offset`; fewer at the end of the data.
    size_t read_at(char *buf, size_t size, uint64_t offset);

  private:
    int fd_;
    Compression compression_;
    std::unique_ptr<PreadByteSource> raw_;
    std::unique_ptr<ByteSource> stream_;
    uint64_t position_ = 0;
};

}  // namespace pg_ingest
