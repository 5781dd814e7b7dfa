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

// The sum of the content sizes its frames declare; nullopt if one does not declare it.
std::optional<uint64_t> declared_size(const std::string &raw) {
    uint64_t total = 0;
    for (size_t position = 0; position < raw.size();) {
        const size_t frame =
            ZSTD_findFrameCompressedSize(raw.data() + position, raw.size() - position);
        if (ZSTD_isError(frame)) return std::nullopt;
        const unsigned long long content =
            ZSTD_getFrameContentSize(raw.data() + position, raw.size() - position);
        if (content == ZSTD_CONTENTSIZE_UNKNOWN || content == ZSTD_CONTENTSIZE_ERROR)
            return std::nullopt;
        total += content;
        position += frame;
    }
    return total;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return pg_ingest::fuzz::fuzz_decompressor(pg_ingest::Compression::kZstd, zstd_frame,
                                              declared_size, data, size);
}
