#include "core/csv/csv_span_scanner.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace pg_ingest {
namespace {

CsvScanOptions three_fields() {
    CsvScanOptions options;
    options.field_count = 3;
    options.max_field_bytes = 8;
    return options;
}

std::vector<CsvSpan> all_spans(const std::string &text, size_t max_rows,
                               CsvScanOptions options = three_fields(), uint64_t offset = 0) {
    StringByteSource source(text.substr(offset));
    CsvSpanScanner scanner(source, options, offset, 1);
    std::vector<CsvSpan> spans;
    for (;;) {
        CsvSpan span = scanner.next_span(max_rows);
        spans.push_back(span);
        if (span.irregular || span.rows == 0) return spans;
    }
}

TEST(CsvSpanScanner, SplitsPlainRowsIntoBatchesWithOffsetsAndLines) {
    const std::string text = "a,b,c\n\"x\"\"y\",\"2\nlines\",\n1,2,3";
    auto spans = all_spans(text, 2);
    ASSERT_EQ(spans.size(), 3u);
    EXPECT_FALSE(spans[0].irregular);
    EXPECT_EQ(spans[0].rows, 2u);
    EXPECT_EQ(spans[0].start_offset, 0u);
    EXPECT_EQ(spans[0].end_offset, 24u);
    EXPECT_EQ(spans[0].start_line, 1u);
    EXPECT_EQ(spans[0].last_line, 3u);  // the second row spans lines 2 and 3
    EXPECT_EQ(spans[0].end_line, 4u);
    EXPECT_EQ(spans[1].rows, 1u);
    EXPECT_EQ(spans[1].start_offset, 24u);
    EXPECT_EQ(spans[1].end_offset, text.size());
    EXPECT_EQ(spans[1].last_line, 4u);  // no newline at the end
    EXPECT_FALSE(spans[0].at_end);
    EXPECT_TRUE(spans[1].at_end);
    EXPECT_EQ(spans[2].rows, 0u);
    EXPECT_FALSE(spans[2].irregular);
    EXPECT_TRUE(spans[2].at_end);
}

CsvScanOptions three_fields(LineEnd line_end) {
    CsvScanOptions options = three_fields();
    options.line_end = line_end;
    return options;
}

TEST(CsvSpanScanner, AcceptsCrLfLineEndings) {
    auto spans = all_spans("a,b,c\r\n1,2,3\r\n", 10, three_fields(LineEnd::kCarriageReturnNewline));
    EXPECT_FALSE(spans[0].irregular);
    EXPECT_EQ(spans[0].rows, 2u);
    EXPECT_EQ(spans[0].end_offset, 14u);
    EXPECT_EQ(spans[0].last_line, 2u);
}

// In a file of lone carriage returns, a quoted '\r' is a line of the row, a quoted '\n' only
// data.
TEST(CsvSpanScanner, AcceptsLoneCarriageReturnLineEndings) {
    const std::string text = "a,b,c\r\"x\ry\",\"p\nq\",z\r1,2,3";
    auto spans = all_spans(text, 10, three_fields(LineEnd::kCarriageReturn));
    ASSERT_EQ(spans.size(), 2u);
    EXPECT_FALSE(spans[0].irregular);
    EXPECT_EQ(spans[0].rows, 3u);
    EXPECT_EQ(spans[0].end_offset, text.size());
    EXPECT_EQ(spans[0].last_line, 4u);
    EXPECT_EQ(spans[0].end_line, 4u);
    EXPECT_TRUE(spans[0].at_end);
    auto from_second = all_spans(text, 1, three_fields(LineEnd::kCarriageReturn), 6);
    EXPECT_EQ(from_second[0].rows, 1u);
    EXPECT_EQ(from_second[0].end_offset, 20u);
}

// A line break outside quotes that is not the file's line end is left to CsvReader, which
// refuses it with COPY's words.
TEST(CsvSpanScanner, RefusesLineBreaksOtherThanTheFilesLineEnd) {
    const std::pair<LineEnd, const char *> cases[] = {
        {LineEnd::kNewline, "a,b,c\r\n"},
        {LineEnd::kNewline, "a,b,c\r"},
        {LineEnd::kCarriageReturnNewline, "a,b,c\n"},
        {LineEnd::kCarriageReturnNewline, "a,b,c\rd,e,f\r\n"},
        {LineEnd::kCarriageReturnNewline, "a,b,c\r"},
        {LineEnd::kCarriageReturn, "a,b,c\n"},
        {LineEnd::kCarriageReturn, "a,b,c\r\n1,2,3\r"},
        {LineEnd::kCarriageReturn, "a,b,c\r\r"},
    };
    for (const auto &[line_end, text] : cases) {
        auto spans = all_spans(text, 10, three_fields(line_end));
        EXPECT_TRUE(spans.back().irregular) << text;
    }
}

TEST(CsvSpanScanner, RefusesWhatIsNotPlain) {
    // std::string, not const char *: the NUL case keeps its bytes after the NUL.
    const std::string cases[] = {
        "a,b,c\n\n1,2,3\n",           // blank line
        "a,b,c\n\r\n",                // blank CRLF line
        "a,b\n",                      // too few fields
        "a,b,c,d\n",                  // too many fields
        "a,b\"x,c\n",                 // quote inside an unquoted field
        "a,\"b\"x,c\n",               // text after a closing quote
        "a,b\rc,d\n",                 // lone carriage return
        "a,b,c\r",                    // carriage return at end of input
        "a,\"b\n",                    // unterminated quote
        std::string("a,b\0,c\n", 7),  // NUL byte
        "a,123456789,c\n",            // field over max_field_bytes (8)
        "a,\"12345\"\"678\",c\n",     // decoded: 12345"678, 9 bytes
        "\xEF\xBB\xBF"
        "a,b,c\n",  // byte order mark
    };
    for (const std::string &text : cases) {
        auto spans = all_spans(text, 10);
        EXPECT_TRUE(spans.back().irregular) << text;
        EXPECT_EQ(spans.back().start_offset, 0u) << text;
    }
    std::string nul("a,b,c\nd,\0,f\n", 12);
    auto spans = all_spans(nul, 10);
    EXPECT_TRUE(spans.back().irregular);
}

TEST(CsvSpanScanner, StopsAfterMaxBytesAtARowBoundary) {
    std::string text;
    for (int i = 0; i < 100; i++) text += "aa,bb,cc\n";
    StringByteSource source(text);
    CsvSpanScanner scanner(source, three_fields(), 0, 1);
    CsvSpan span = scanner.next_span(1000, 40);
    EXPECT_EQ(span.rows, 5u);  // 45 bytes: the first row boundary at or past 40
    EXPECT_EQ(span.end_offset, 45u);
    EXPECT_FALSE(span.at_end);
    span = scanner.next_span(1000);
    EXPECT_EQ(span.rows, 95u);
    EXPECT_EQ(span.start_line, 6u);
    EXPECT_TRUE(span.at_end);
}

TEST(CsvSpanScanner, IrregularSpanStartsAtTheBatchNotAtTheBadRow) {
    auto spans = all_spans("a,b,c\n1,2,3\n4,5\n", 10);
    ASSERT_EQ(spans.size(), 1u);
    EXPECT_TRUE(spans[0].irregular);
    EXPECT_EQ(spans[0].start_offset, 0u);
}

// Differential check against CsvReader, which defines the rows: whenever the scanner vouches for
// a span, the reader reads exactly that many good rows of field_count fields from it, ending at
// the same offset and line.
// The line end CsvReader decides at the text's start, which the loader tells the scanner.
LineEnd decided_line_end(const std::string &text) {
    StringByteSource source(text);
    CsvReader reader(source, CsvOptions{}, 0, 1);
    CsvBatch batch;
    while (reader.line_end() == LineEnd::kUnknown && reader.next_batch(batch, 1)) {
    }
    return reader.line_end();
}

TEST(CsvSpanScanner, PlainSpansReadIdenticallyWithCsvReader) {
    const std::string line_ends[] = {"\n", "\r\n", "\r"};
    std::mt19937 random(7);
    int vouched = 0;
    int vouched_lone_carriage_return = 0;
    for (int round = 0; round < 30000; round++) {
        // Each text mostly ends its lines one way, with the other ways sprinkled in.
        const std::string &line_end = line_ends[round % 3];
        const std::string alphabet[] = {"a",      "bc",   ",",  ",",  "\"", line_end,  line_end,
                                        line_end, "\r\n", "\r", "\n", " ",  "\xC3\xA9"};
        std::string text;
        int pieces = static_cast<int>(random() % 24);
        for (int i = 0; i < pieces; i++) text += alphabet[random() % std::size(alphabet)];
        CsvScanOptions options;
        options.field_count = 1 + random() % 3;
        options.max_field_bytes = 1 << 20;
        options.line_end = decided_line_end(text);
        size_t max_rows = 1 + random() % 3;
        StringByteSource scan_source(text);
        CsvSpanScanner scanner(scan_source, options, 0, 1);
        StringByteSource read_source(text);
        CsvReader reader(read_source, CsvOptions{}, 0, 1);
        CsvBatch batch;
        for (;;) {
            CsvSpan span = scanner.next_span(max_rows);
            if (span.irregular || span.rows == 0) break;
            vouched++;
            if (options.line_end == LineEnd::kCarriageReturn) vouched_lone_carriage_return++;
            size_t read = 0;
            while (read < span.rows) {
                ASSERT_TRUE(reader.next_batch(batch, span.rows - read)) << text;
                for (const CsvRow &row : batch.rows) {
                    ASSERT_EQ(row.error, "") << text;
                    ASSERT_EQ(row.field_count, options.field_count) << text;
                    read++;
                    if (read == span.rows) {
                        ASSERT_EQ(row.end_offset, span.end_offset) << text;
                        ASSERT_EQ(row.end_line, span.end_line) << text;
                        ASSERT_EQ(span.last_line, row.last_line) << text;
                    }
                }
            }
        }
    }
    EXPECT_GT(vouched, 1000);
    EXPECT_GT(vouched_lone_carriage_return, 300);
}

}  // namespace
}  // namespace pg_ingest
