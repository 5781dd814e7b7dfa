// The scanner handed its input in the caller's buffer (scan_memory), as COPY's data_source_cb
// hands it COPY's own buffer: it must find the same spans as when it reads the input itself,
// however the input is cut into buffers.
#include "core/csv/csv_span_scanner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace pg_ingest {
namespace {

CsvScanOptions fields(size_t count) {
    CsvScanOptions options;
    options.field_count = count;
    options.max_field_bytes = 8;
    return options;
}

std::vector<CsvSpan> pulled_spans(const std::string &text, size_t max_rows, size_t max_bytes,
                                  CsvScanOptions options) {
    StringByteSource source(text);
    CsvSpanScanner scanner(source, options, 0, 1);
    std::vector<CsvSpan> spans;
    for (;;) {
        spans.push_back(scanner.next_span(max_rows, max_bytes));
        if (spans.back().irregular || spans.back().rows == 0) return spans;
    }
}

// As the COPY callback reads: each span from its start offset, in buffers of the sizes `cut`
// picks, bytes past the span's end dropped. A span that ends with the input is followed by the
// empty span at the end, as next_span gives it.
template <typename Cut>
std::vector<CsvSpan> handed_spans(const std::string &text, size_t max_rows, size_t max_bytes,
                                  CsvScanOptions options, Cut cut) {
    CsvSpanScanner scanner(options, 0, 1);
    std::vector<CsvSpan> spans;
    for (;;) {
        scanner.begin_span(max_rows, max_bytes);
        size_t at = scanner.span().start_offset;
        bool ended = false;
        while (!ended && at < text.size()) {
            size_t size = std::min(cut(), text.size() - at);
            CsvScanStep step = scanner.scan_memory(text.data() + at, size);
            EXPECT_LE(step.bytes_in_span, size);
            ended = step.span_ended;
            at += step.bytes_in_span;
        }
        if (!ended) scanner.end_input();
        spans.push_back(scanner.span());
        if (spans.back().irregular || spans.back().rows == 0) return spans;
    }
}

void expect_same(const std::vector<CsvSpan> &expected, const std::vector<CsvSpan> &got,
                 const std::string &text) {
    ASSERT_EQ(expected.size(), got.size()) << text;
    for (size_t i = 0; i < expected.size(); i++) {
        const CsvSpan &a = expected[i], &b = got[i];
        EXPECT_EQ(a.irregular, b.irregular) << text << " span " << i;
        EXPECT_EQ(a.start_offset, b.start_offset) << text << " span " << i;
        EXPECT_EQ(a.start_line, b.start_line) << text << " span " << i;
        if (a.irregular) continue;  // an irregular span's end is not used
        EXPECT_EQ(a.rows, b.rows) << text << " span " << i;
        EXPECT_EQ(a.end_offset, b.end_offset) << text << " span " << i;
        EXPECT_EQ(a.end_line, b.end_line) << text << " span " << i;
        EXPECT_EQ(a.last_line, b.last_line) << text << " span " << i;
        EXPECT_EQ(a.at_end, b.at_end) << text << " span " << i;
    }
}

TEST(CsvSpanScannerMemory, SpansEndRightAfterTheirLastRowWhateverTheBuffers) {
    const std::string text = "a,b,c\n\"x\"\"y\",\"2\nlines\",\n1,2,3\n4,5,6";
    for (size_t buffer = 1; buffer <= text.size(); buffer++) {
        auto spans = handed_spans(text, 2, 1 << 20, fields(3), [&] { return buffer; });
        ASSERT_EQ(spans.size(), 3u) << buffer;
        EXPECT_EQ(spans[0].rows, 2u);
        EXPECT_EQ(spans[0].end_offset, 24u);  // just after the row on lines 2 and 3
        EXPECT_EQ(spans[0].last_line, 3u);
        EXPECT_EQ(spans[0].end_line, 4u);
        EXPECT_FALSE(spans[0].at_end);
        EXPECT_EQ(spans[1].start_offset, 24u);
        EXPECT_EQ(spans[1].rows, 2u);
        EXPECT_EQ(spans[1].end_offset, text.size());
        EXPECT_EQ(spans[1].last_line, 5u);  // no newline at the end
        EXPECT_TRUE(spans[1].at_end);
        EXPECT_EQ(spans[2].rows, 0u);
        EXPECT_FALSE(spans[2].irregular);
    }
}

TEST(CsvSpanScannerMemory, TellsHowManyBytesOfTheBufferBelongToTheSpan) {
    CsvSpanScanner scanner(fields(2), 100, 7);
    scanner.begin_span(2, 1 << 20);
    const std::string buffer = "a,b\nc,d\ne,f\n";
    CsvScanStep step = scanner.scan_memory(buffer.data(), buffer.size());
    EXPECT_TRUE(step.span_ended);
    EXPECT_EQ(step.bytes_in_span, 8u);
    EXPECT_EQ(scanner.span().start_offset, 100u);
    EXPECT_EQ(scanner.span().end_offset, 108u);
    EXPECT_EQ(scanner.span().end_line, 9u);
    scanner.begin_span(2, 1 << 20);
    step = scanner.scan_memory(buffer.data() + 8, 4);
    EXPECT_FALSE(step.span_ended);
    EXPECT_EQ(step.bytes_in_span, 4u);
    scanner.end_input();
    EXPECT_EQ(scanner.span().rows, 1u);
    EXPECT_EQ(scanner.span().start_line, 9u);
    EXPECT_TRUE(scanner.span().at_end);
}

TEST(CsvSpanScannerMemory, AQuoteOpenAtTheEndOfTheInputIsNotPlain) {
    CsvSpanScanner scanner(fields(2), 0, 1);
    scanner.begin_span(10, 1 << 20);
    const std::string text = "a,b\nc,\"d\n";
    EXPECT_FALSE(scanner.scan_memory(text.data(), text.size()).span_ended);
    scanner.end_input();
    EXPECT_TRUE(scanner.span().irregular);
    EXPECT_EQ(scanner.span().start_offset, 0u);
}

TEST(CsvSpanScannerMemory, AByteOrderMarkAtTheStartIsLeftToCsvReader) {
    const std::string text =
        "\xEF\xBB\xBF"
        "a,b\n";
    CsvSpanScanner scanner(fields(2), 0, 1);
    scanner.begin_span(10, 1 << 20);
    CsvScanStep step = scanner.scan_memory(text.data(), 1);
    EXPECT_TRUE(step.span_ended);
    EXPECT_TRUE(scanner.span().irregular);
    // Past the file's start the same bytes are just a field's text.
    CsvSpanScanner later(fields(2), 10, 2);
    later.begin_span(10, 1 << 20);
    EXPECT_FALSE(later.scan_memory(text.data(), text.size()).span_ended);
    later.end_input();
    EXPECT_EQ(later.span().rows, 1u);
}

TEST(CsvSpanScannerMemory, AFieldOverTheLimitAcrossBuffersIsNotPlain) {
    CsvSpanScanner scanner(fields(2), 0, 1);
    scanner.begin_span(10, 1 << 20);
    EXPECT_FALSE(scanner.scan_memory("a,\"12345", 8).span_ended);
    CsvScanStep step = scanner.scan_memory("6789\"\n", 6);  // 9 bytes in the field, limit 8
    EXPECT_TRUE(step.span_ended);
    EXPECT_TRUE(scanner.span().irregular);
}

// Differential: random texts in random buffers find the spans next_span finds.
TEST(CsvSpanScannerMemory, CarriageReturnSpansEndRightAfterTheirLastRowWhateverTheBuffers) {
    const std::string text = "a,b,c\r\"x\"\"y\",\"2\rlines\",\r1,2,3\r4,5,6";
    CsvScanOptions options = fields(3);
    options.line_end = LineEnd::kCarriageReturn;
    for (size_t buffer = 1; buffer <= text.size(); buffer++) {
        auto spans = handed_spans(text, 2, 1 << 20, options, [&] { return buffer; });
        ASSERT_EQ(spans.size(), 3u) << buffer;
        EXPECT_EQ(spans[0].rows, 2u);
        EXPECT_EQ(spans[0].end_offset, 24u);
        EXPECT_EQ(spans[0].last_line, 3u);
        EXPECT_EQ(spans[0].end_line, 4u);
        EXPECT_EQ(spans[1].rows, 2u);
        EXPECT_EQ(spans[1].end_offset, text.size());
        EXPECT_EQ(spans[1].last_line, 5u);
        EXPECT_TRUE(spans[1].at_end);
    }
}

// Differential: random texts in random buffers find the spans next_span finds, for each line end
// (texts mostly ending their lines that way, with the other line breaks sprinkled in).
TEST(CsvSpanScannerMemory, RandomBuffersFindTheSpansTheScannerReadingItselfFinds) {
    const std::pair<LineEnd, std::string> line_ends[] = {{LineEnd::kNewline, "\n"},
                                                         {LineEnd::kCarriageReturnNewline, "\r\n"},
                                                         {LineEnd::kCarriageReturn, "\r"}};
    std::mt19937 random(11);
    int compared = 0;
    for (int round = 0; round < 30000; round++) {
        const auto &[line_end, terminator] = line_ends[round % 3];
        const std::string alphabet[] = {"a",        "bc", ",",    ",",  "\"", terminator,
                                        terminator, "\n", "\r\n", "\r", " ",  "\xC3\xA9"};
        std::string text;
        int pieces = static_cast<int>(random() % 32);
        for (int i = 0; i < pieces; i++) text += alphabet[random() % std::size(alphabet)];
        CsvScanOptions options = fields(1 + random() % 3);
        options.line_end = line_end;
        size_t max_rows = 1 + random() % 3;
        size_t max_bytes = 1 + random() % 16;
        auto expected = pulled_spans(text, max_rows, max_bytes, options);
        auto got = handed_spans(text, max_rows, max_bytes, options,
                                [&] { return static_cast<size_t>(1 + random() % 7); });
        expect_same(expected, got, text);
        if (HasFailure()) return;
        compared += static_cast<int>(expected.size());
    }
    EXPECT_GT(compared, 30000);
}

}  // namespace
}  // namespace pg_ingest
