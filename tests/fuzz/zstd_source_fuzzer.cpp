// The zstd source (make_decompressor(Compression::kZstd)): see decompressor_fuzz.hpp.
#include <zstd.h>

#include "decompressor_fuzz.hpp"

namespace {

std::string zstd_frame(const std::string &text, int level) {
    std::string out(ZSTD_compressBound(text.size()), '\0');
    const size_t size = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), level);
    if (ZSTD_isError(size)) std::abort();
    out.resize(size);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return pg_ingest::fuzz::fuzz_decompressor(pg_ingest::Compression::kZstd, zstd_frame, data,
                                              size);
}
