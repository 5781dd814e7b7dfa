#include "core/csv/compressed_source.hpp"

#include "core/trickle_source.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace pg_ingest {
namespace {

std::string gzip(const std::string &text) {
    z_stream stream{};
    EXPECT_EQ(deflateInit2(&stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&stream, text.size()) + 32, '\0');
    stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(text.data()));
    stream.avail_in = static_cast<uInt>(text.size());
    stream.next_out = reinterpret_cast<Bytef *>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

std::string zstd(const std::string &text) {
    std::string out(ZSTD_compressBound(text.size()), '\0');
    size_t size = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3);
    EXPECT_FALSE(ZSTD_isError(size));
    out.resize(size);
    return out;
}

std::string read_all(ByteSource &source, size_t chunk = 7) {
    std::string out;
    std::string buffer(chunk, '\0');
    for (size_t got; (got = source.read(buffer.data(), chunk)) > 0;) out.append(buffer, 0, got);
    return out;
}

// The message of what reading all of `source` throws ("" when it throws nothing).
std::string read_error(ByteSource &source) {
    try {
        read_all(source);
    } catch (const std::runtime_error &error) {
        return error.what();
    }
    return "";
}

std::string sample_csv() {
    std::string text = "id,name\n";
    for (int i = 0; i < 5000; i++)
        text += std::to_string(i) + ",\"row " + std::to_string(i) + "\"\n";
    return text;
}

TEST(CompressionTest, ChosenByFileNameSuffix) {
    EXPECT_EQ(compression_of("a.csv.gz"), Compression::kGzip);
    EXPECT_EQ(compression_of("a.csv.zst"), Compression::kZstd);
    EXPECT_EQ(compression_of("a.csv"), Compression::kNone);
    EXPECT_EQ(compression_of("a.gz.csv"), Compression::kNone);
}

TEST(CompressionTest, GzipAndZstdYieldTheUncompressedText) {
    const std::string text = sample_csv();
    for (auto [compression, data] :
         {std::pair{Compression::kGzip, gzip(text)}, std::pair{Compression::kZstd, zstd(text)}}) {
        StringByteSource compressed(data);
        auto source = make_decompressor(compression, compressed);
        EXPECT_EQ(read_all(*source), text);
    }
}

TEST(CompressionTest, ConcatenatedMembersAndFramesAreOneStream) {
    StringByteSource gz(gzip("a\n") + gzip("b\n"));
    EXPECT_EQ(read_all(*make_decompressor(Compression::kGzip, gz)), "a\nb\n");
    StringByteSource zs(zstd("a\n") + zstd("b\n"));
    EXPECT_EQ(read_all(*make_decompressor(Compression::kZstd, zs)), "a\nb\n");
}

TEST(CompressionTest, TruncatedOrCorruptDataThrows) {
    const std::string text = sample_csv();
    for (auto [compression, data] :
         {std::pair{Compression::kGzip, gzip(text)}, std::pair{Compression::kZstd, zstd(text)}}) {
        StringByteSource truncated(data.substr(0, data.size() / 2));
        auto source = make_decompressor(compression, truncated);
        EXPECT_THROW(read_all(*source), std::runtime_error);
        std::string corrupt = data;
        corrupt[0] ^= 0x5a;  // the magic number
        StringByteSource damaged(corrupt);
        auto broken = make_decompressor(compression, damaged);
        EXPECT_THROW(read_all(*broken), std::runtime_error);
    }
}

// Resuming at a committed offset: the reader continues with the same rows as an uninterrupted one.
TEST(CompressionTest, CsvReaderResumesAtAnUncompressedOffset) {
    const std::string text = sample_csv();
    StringByteSource whole(gzip(text));
    auto first = make_decompressor(Compression::kGzip, whole);
    CsvReader reader(*first, CsvOptions{}, 0, 1);
    CsvBatch batch;
    ASSERT_TRUE(reader.next_batch(batch, 1000));
    const CsvRow last = batch.rows.back();

    StringByteSource again(gzip(text));
    auto second = make_decompressor(Compression::kGzip, again);
    skip_bytes(*second, last.end_offset);
    CsvReader resumed(*second, CsvOptions{}, last.end_offset, last.end_line);
    ASSERT_TRUE(resumed.next_batch(batch, 1));
    EXPECT_EQ(batch.rows[0].line_number, 1001u);
    EXPECT_EQ(std::string(batch.row_fields(batch.rows[0])[0].data, 3), "999");
}

TEST(CompressionTest, SkippingPastTheEndThrows) {
    StringByteSource compressed(zstd("abc\n"));
    auto source = make_decompressor(Compression::kZstd, compressed);
    EXPECT_THROW(skip_bytes(*source, 10), std::runtime_error);
}

// A frame header, single segment, that declares `declared` bytes (< 256); a raw block of
// `content` unless it is empty; and an empty raw last block. libzstd's streaming API takes such
// a frame whole, however short its content, unless it sees the whole frame at once.
std::string raw_zstd_frame(unsigned char declared, const std::string &content) {
    std::string frame("\x28\xb5\x2f\xfd\x20", 5);
    frame += static_cast<char>(declared);
    if (!content.empty()) {
        uint32_t block = static_cast<uint32_t>(content.size()) << 3;  // raw, not last
        frame += {static_cast<char>(block & 0xff), static_cast<char>((block >> 8) & 0xff),
                  static_cast<char>(block >> 16)};
        frame += content;
    }
    return frame + std::string("\x01\x00\x00", 3);  // raw, last, empty
}

// The fuzzer's reproducer: a header that declares 4 bytes, and an empty last block. Whole in one
// read, libzstd decodes the frame in one pass and checks its size itself; fed a few bytes at a
// time, its streaming path does not (how the fuzzer's truncated file loaded as done).
TEST(CompressionTest, ZstdFrameShorterThanItsDeclaredSizeThrows) {
    const std::string reproducer("\x28\xb5\x2f\xfd\x20\x04\x01\x00\x00", 9);
    ASSERT_EQ(raw_zstd_frame(4, ""), reproducer);
    StringByteSource whole(reproducer);
    EXPECT_EQ(read_error(*make_decompressor(Compression::kZstd, whole)),
              "zstd: Data corruption detected");
    TrickleSource trickled(reproducer, 1);
    EXPECT_EQ(read_error(*make_decompressor(Compression::kZstd, trickled)),
              "zstd: a frame ends after 0 of the 4 bytes its header declares");
    // After a whole frame, with the header and the block cut across reads of 1 to 3 bytes.
    for (size_t step = 1; step <= 3; step++) {
        TrickleSource cut(zstd("a,b\n") + raw_zstd_frame(9, "x,y\n"), step);
        EXPECT_EQ(read_error(*make_decompressor(Compression::kZstd, cut)),
                  "zstd: a frame ends after 4 of the 9 bytes its header declares")
            << step;
    }
}

TEST(CompressionTest, ZstdFramesOfTheirDeclaredOrUndeclaredSizeLoad) {
    TrickleSource exact(raw_zstd_frame(4, "x,y\n") + zstd("a,b\n"), 2);
    EXPECT_EQ(read_all(*make_decompressor(Compression::kZstd, exact)), "x,y\na,b\n");
    // A frame written without its content size.
    ZSTD_CCtx *context = ZSTD_createCCtx();
    ASSERT_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 0)));
    std::string streamed(64, '\0');
    ZSTD_inBuffer in{"p,q\n", 4, 0};
    ZSTD_outBuffer out{streamed.data(), streamed.size(), 0};
    ASSERT_EQ(ZSTD_compressStream2(context, &out, &in, ZSTD_e_end), 0u);
    ZSTD_freeCCtx(context);
    streamed.resize(out.pos);
    ASSERT_EQ(ZSTD_getFrameContentSize(streamed.data(), streamed.size()), ZSTD_CONTENTSIZE_UNKNOWN);
    StringByteSource undeclared(streamed);
    EXPECT_EQ(read_all(*make_decompressor(Compression::kZstd, undeclared)), "p,q\n");
}

TEST(CompressionTest, ZstdFrameLongerThanItsDeclaredSizeThrows) {
    // The declared size says 2, the raw block holds 4: libzstd refuses it itself, or we do.
    StringByteSource longer(raw_zstd_frame(2, "x,y\n"));
    EXPECT_THROW(read_all(*make_decompressor(Compression::kZstd, longer)), std::runtime_error);
}

// A read of 0 bytes returns 0 at once, in the middle of the data as at its start.
TEST(CompressionTest, ReadOfZeroBytesReturnsZero) {
    for (auto [compression, data] : {std::pair{Compression::kGzip, gzip("a,b\nc,d\n")},
                                     std::pair{Compression::kZstd, zstd("a,b\nc,d\n")}}) {
        StringByteSource compressed(data);
        auto source = make_decompressor(compression, compressed);
        char byte = 0;
        EXPECT_EQ(source->read(&byte, 0), 0u);
        ASSERT_EQ(source->read(&byte, 1), 1u);
        EXPECT_EQ(source->read(&byte, 0), 0u);
        EXPECT_EQ(read_all(*source), ",b\nc,d\n");
    }
}

// A read of 4 GiB and more: into a 4 GiB + 64 KiB reservation of which only the first 64 KiB
// may be written (the rest faults), so nothing is allocated. Before the cap, gzip's 32-bit
// avail_out turned a 4 GiB read into one of 0 bytes that claimed 4 GiB.
TEST(CompressionTest, ReadOfFourGibibytesOrMoreReturnsTheText) {
    constexpr size_t kWritable = 64 * 1024;
    const size_t reserved = (size_t{1} << 32) + kWritable;
    void *area =
        mmap(nullptr, reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ASSERT_NE(area, MAP_FAILED);
    ASSERT_EQ(mprotect(area, kWritable, PROT_READ | PROT_WRITE), 0);
    char *buffer = static_cast<char *>(area);
    const std::string text = "a,b\nc,d\n";
    for (size_t size : {size_t{1} << 32, reserved}) {
        for (auto [compression, data] : {std::pair{Compression::kGzip, gzip(text)},
                                         std::pair{Compression::kZstd, zstd(text)}}) {
            StringByteSource compressed(data);
            auto source = make_decompressor(compression, compressed);
            ASSERT_EQ(source->read(buffer, size), text.size()) << size;
            EXPECT_EQ(std::string(buffer, text.size()), text);
            EXPECT_EQ(source->read(buffer, size), 0u);
        }
    }
    munmap(area, reserved);
}

}  // namespace
}  // namespace pg_ingest
