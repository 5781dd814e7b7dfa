// The gzip source (make_decompressor(Compression::kGzip)): see decompressor_fuzz.hpp.
#include <zlib.h>

#include "decompressor_fuzz.hpp"

namespace {

std::string gzip_member(const std::string &text, int level) {
    z_stream stream{};
    // 16 + MAX_WBITS: a gzip header and trailer.
    if (deflateInit2(&stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        std::abort();
    std::string out(deflateBound(&stream, text.size()) + 32, '\0');
    stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(text.data()));
    stream.avail_in = static_cast<uInt>(text.size());
    stream.next_out = reinterpret_cast<Bytef *>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    if (deflate(&stream, Z_FINISH) != Z_STREAM_END) std::abort();
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

// gzip's size field is the content size modulo 4 GiB, and zlib checks it: nothing to add.
std::optional<uint64_t> declared_size(const std::string &) {
    return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return pg_ingest::fuzz::fuzz_decompressor(pg_ingest::Compression::kGzip, gzip_member,
                                              declared_size, data, size);
}
