#include "core/csv/compressed_source.hpp"

#include <unistd.h>
#include <zlib.h>
// For ZSTD_getFrameHeader: the streaming API alone does not hold a frame to its declared size.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace pg_ingest {

namespace {

constexpr size_t kInputChunk = 128 * 1024;

// The most one inflate call may write: zlib counts its output space in 32 bits.
constexpr size_t inflate_output_limit() {
    return UINT_MAX;
}

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class GzipSource : public ByteSource {
  public:
    explicit GzipSource(ByteSource &compressed) : compressed_(compressed), input_(kInputChunk) {
        // 16 + MAX_WBITS: a gzip header and trailer, not a raw zlib stream.
        if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK)
            throw std::runtime_error("gzip: cannot initialise the decompressor");
    }
    ~GzipSource() override { inflateEnd(&stream_); }

    size_t read(char *buf, size_t size) override {
        // avail_out is 32-bit: a larger read asks one inflate call for what fits, and returns no
        // more than that (fewer bytes than asked is a valid read).
        size = std::min(size, inflate_output_limit());
        if (size == 0) return 0;
        stream_.next_out = reinterpret_cast<Bytef *>(buf);
        stream_.avail_out = static_cast<uInt>(size);
        while (stream_.avail_out == size) {
            if (stream_.avail_in == 0) {
                size_t got = compressed_.read(input_.data(), input_.size());
                if (got == 0) {
                    if (in_member_) throw std::runtime_error("gzip: the data ends early");
                    return 0;
                }
                stream_.next_in = reinterpret_cast<Bytef *>(input_.data());
                stream_.avail_in = static_cast<uInt>(got);
            }
            in_member_ = true;
            int status = inflate(&stream_, Z_NO_FLUSH);
            if (status == Z_STREAM_END) {
                // Another member may follow (concatenated .gz files are one file).
                in_member_ = false;
                if (inflateReset(&stream_) != Z_OK)
                    throw std::runtime_error("gzip: cannot reset the decompressor");
            } else if (status != Z_OK && status != Z_BUF_ERROR) {
                throw std::runtime_error(std::string("gzip: ") +
                                         (stream_.msg ? stream_.msg : "corrupt data"));
            }
        }
        return size - stream_.avail_out;
    }

  private:
    ByteSource &compressed_;
    std::vector<char> input_;
    z_stream stream_{};
    bool in_member_ = false;
};

// A frame whose header declares its content size must decode to exactly that size: libzstd's
// streaming API accepts a frame that ends (with an empty last block) before it, so the frame's
// output is counted here.
class ZstdSource : public ByteSource {
  public:
    explicit ZstdSource(ByteSource &compressed)
        : compressed_(compressed), input_(kInputChunk), stream_(ZSTD_createDStream()) {
        if (stream_ == nullptr) throw std::runtime_error("zstd: cannot create the decompressor");
    }
    ~ZstdSource() override { ZSTD_freeDStream(stream_); }

    size_t read(char *buf, size_t size) override {
        if (size == 0) return 0;
        ZSTD_outBuffer out{buf, size, 0};
        while (out.pos == 0) {
            if (!in_frame_ && !begin_frame()) return 0;
            if (in_.pos == in_.size) {
                size_t got = compressed_.read(input_.data(), input_.size());
                if (got == 0) throw std::runtime_error("zstd: the data ends early");
                in_ = ZSTD_inBuffer{input_.data(), got, 0};
            }
            size_t before = out.pos;
            size_t hint = ZSTD_decompressStream(stream_, &out, &in_);
            if (ZSTD_isError(hint))
                throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(hint));
            frame_output_ += out.pos - before;
            // 0: a frame is complete and flushed; another may follow.
            in_frame_ = hint != 0;
            check_frame_size();
        }
        return out.pos;
    }

  private:
    // Reads the next frame's header into the input buffer and notes the content size it
    // declares. False at the end of the data, between frames.
    bool begin_frame() {
        for (;;) {
            size_t available = in_.size - in_.pos;
            if (available > 0) {
                ZSTD_frameHeader header;
                size_t missing = ZSTD_getFrameHeader(
                    &header, static_cast<const char *>(in_.src) + in_.pos, available);
                if (ZSTD_isError(missing))
                    throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(missing));
                if (missing == 0) {
                    declared_size_ = header.frameType == ZSTD_frame ? header.frameContentSize
                                                                    : ZSTD_CONTENTSIZE_UNKNOWN;
                    frame_output_ = 0;
                    in_frame_ = true;
                    return true;
                }
            }
            // The header is cut by the end of the buffer: keep its start, read the rest after it.
            // (in_.src is null before the first read, and memmove of nothing from null is undefined.)
            if (available > 0)
                std::memmove(input_.data(), static_cast<const char *>(in_.src) + in_.pos, available);
            size_t got = compressed_.read(input_.data() + available, input_.size() - available);
            if (got == 0) {
                if (available > 0) throw std::runtime_error("zstd: the data ends early");
                return false;
            }
            in_ = ZSTD_inBuffer{input_.data(), available + got, 0};
        }
    }

    // Once a frame ends, and whenever it outgrows its declared size.
    void check_frame_size() const {
        if (declared_size_ == ZSTD_CONTENTSIZE_UNKNOWN) return;
        if (frame_output_ > declared_size_)
            throw std::runtime_error("zstd: a frame decodes to more than the " +
                                     std::to_string(declared_size_) + " bytes its header declares");
        if (!in_frame_ && frame_output_ < declared_size_)
            throw std::runtime_error("zstd: a frame ends after " + std::to_string(frame_output_) +
                                     " of the " + std::to_string(declared_size_) +
                                     " bytes its header declares");
    }

    ByteSource &compressed_;
    std::vector<char> input_;
    ZSTD_DStream *stream_;
    ZSTD_inBuffer in_{nullptr, 0, 0};
    bool in_frame_ = false;
    unsigned long long declared_size_ = ZSTD_CONTENTSIZE_UNKNOWN;
    unsigned long long frame_output_ = 0;
};

}  // namespace

Compression compression_of(std::string_view file_name) {
    if (ends_with(file_name, ".gz")) return Compression::kGzip;
    if (ends_with(file_name, ".zst")) return Compression::kZstd;
    return Compression::kNone;
}

size_t PreadByteSource::read(char *buf, size_t size) {
    for (;;) {
        ssize_t got = ::pread(fd_, buf, size, static_cast<off_t>(offset_));
        if (got >= 0) {
            offset_ += static_cast<uint64_t>(got);
            return static_cast<size_t>(got);
        }
        if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "read");
    }
}

std::unique_ptr<ByteSource> make_decompressor(Compression compression, ByteSource &compressed) {
    switch (compression) {
        case Compression::kGzip:
            return std::make_unique<GzipSource>(compressed);
        case Compression::kZstd:
            return std::make_unique<ZstdSource>(compressed);
        case Compression::kNone:
            break;
    }
    throw std::invalid_argument("make_decompressor: not a compressed format");
}

void skip_bytes(ByteSource &source, uint64_t count) {
    std::vector<char> sink(64 * 1024);
    while (count > 0) {
        size_t got = source.read(sink.data(), std::min<uint64_t>(count, sink.size()));
        if (got == 0) throw std::runtime_error("the data ends before the offset to resume at");
        count -= got;
    }
}

size_t UncompressedReader::read_at(char *buf, size_t size, uint64_t offset) {
    if (stream_ == nullptr || offset < position_) {
        stream_.reset();
        raw_ = std::make_unique<PreadByteSource>(fd_, 0);
        stream_ = make_decompressor(compression_, *raw_);
        position_ = 0;
    }
    skip_bytes(*stream_, offset - position_);
    position_ = offset;
    size_t total = 0;
    while (total < size) {
        size_t got = stream_->read(buf + total, size - total);
        if (got == 0) break;
        total += got;
    }
    position_ += total;
    return total;
}

}  // namespace pg_ingest
