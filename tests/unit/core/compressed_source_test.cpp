#include "core/csv/compressed_source.hpp"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

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

}  // namespace
}  // namespace pg_ingest
