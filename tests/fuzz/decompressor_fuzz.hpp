// The gzip and zstd harnesses' common part. Two modes, by the input's first byte:
// - round trip (differential): the rest of the input, compressed as one to three members or
//   frames, must decompress, read in random cuts, to exactly those bytes; cut short anywhere but
//   between members or frames, it must be refused (std::runtime_error), never read as less data;
// - raw: the rest of the input, read as compressed data, is decompressed or refused with
//   std::runtime_error, and nothing else (no crash, no other exception); decompressed, it has
//   the size the data declares, where it declares one (`declared_size`).
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <memory>
#include <optional>
#include <set>
#include <stdexcept>

#include "core/csv/compressed_source.hpp"
#include "fuzz_support.hpp"

namespace pg_ingest::fuzz {

// Decompressed output beyond this is not read (a few bytes of raw input can claim gigabytes).
constexpr size_t kMaxOutput = 1 << 20;

// Reads the decompressed stream in random cuts, into heap blocks of the exact size asked.
inline std::string decompress(Compression compression, const std::string &compressed, uint32_t seed,
                              size_t max_cut) {
    CutSource source(compressed, seed, max_cut);
    std::unique_ptr<ByteSource> stream = make_decompressor(compression, source);
    CutSource sizes(std::string(), seed + 1, 4096);
    std::string out;
    while (out.size() < kMaxOutput) {
        const size_t size = sizes.next_cut(4096);
        std::unique_ptr<char[]> buffer(new char[size]);
        const size_t got = stream->read(buffer.get(), size);
        expect(got <= size, "a read returned more bytes than asked");
        if (got == 0) break;
        out.append(buffer.get(), got);
    }
    return out;
}

// `compress_member(bytes, level)` makes one member or frame; `declared_size(raw)` is the size
// compressed data declares for its content, or nullopt.
template <typename CompressMember, typename DeclaredSize>
int fuzz_decompressor(Compression compression, CompressMember compress_member,
                      DeclaredSize declared_size, const uint8_t *data, size_t size) {
    FuzzedDataProvider input(data, size);
    const bool round_trip = input.ConsumeBool();
    const uint32_t seed = input.ConsumeIntegral<uint32_t>();
    const size_t max_cut = input.ConsumeIntegralInRange<size_t>(1, 64);
    if (!round_trip) {
        const std::string raw = input.ConsumeRemainingBytesAsString();
        std::string out;
        try {
            out = decompress(compression, raw, seed, max_cut);
        } catch (const std::runtime_error &) {
            return 0;
        }
        const std::optional<uint64_t> declared = declared_size(raw);
        if (declared && *declared < kMaxOutput)
            expect(out.size() == *declared, "data decompressed to another size than it declares");
        return 0;
    }
    const int level = input.ConsumeIntegralInRange<int>(1, 9);
    const size_t members = input.ConsumeIntegralInRange<size_t>(1, 3);
    const size_t truncate_pick = input.ConsumeIntegral<uint32_t>();
    const std::string text = input.ConsumeRemainingBytesAsString();
    std::string compressed;
    std::set<size_t> boundaries = {0};
    for (size_t m = 0; m < members; m++) {
        const size_t from = text.size() * m / members, to = text.size() * (m + 1) / members;
        compressed += compress_member(text.substr(from, to - from), level);
        boundaries.insert(compressed.size());
    }
    expect(decompress(compression, compressed, seed, max_cut) == text,
           "decompressing gave other bytes than were compressed");
    const size_t cut = truncate_pick % compressed.size();
    if (boundaries.count(cut)) return 0;  // a shorter file, but a whole one
    bool refused = false;
    try {
        decompress(compression, compressed.substr(0, cut), seed, max_cut);
    } catch (const std::runtime_error &) {
        refused = true;
    }
    expect(refused, "a member or frame cut short was read without an error");
    return 0;
}

}  // namespace pg_ingest::fuzz
