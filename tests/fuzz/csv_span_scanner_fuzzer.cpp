// CsvSpanScanner, differential: the spans it finds pulling its input from a source, handed the
// input in random cuts, and handed it whole must be the same; and CsvReader must read every span
// the scanner vouches for (not irregular) as exactly its rows, all good, with the plain rows'
// field count, ending where the span ends.
#include <fuzzer/FuzzedDataProvider.h>

#include <memory>

#include "core/csv/csv_span_scanner.hpp"
#include "fuzz_support.hpp"

using namespace pg_ingest;
using namespace pg_ingest::fuzz;

namespace {

bool same(const CsvSpan &a, const CsvSpan &b) {
    return a.start_offset == b.start_offset && a.start_line == b.start_line &&
           a.end_offset == b.end_offset && a.end_line == b.end_line && a.last_line == b.last_line &&
           a.rows == b.rows && a.irregular == b.irregular && a.at_end == b.at_end;
}

bool same(const std::vector<CsvSpan> &a, const std::vector<CsvSpan> &b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++)
        if (!same(a[i], b[i])) return false;
    return true;
}

// The spans, until one is irregular or empty (end of input).
std::vector<CsvSpan> pulled(const std::string &text, const CsvScanOptions &options, size_t max_rows,
                            size_t max_bytes, uint32_t seed, size_t max_cut) {
    CutSource source(text, seed, max_cut);
    CsvSpanScanner scanner(source, options, 0, 1);
    std::vector<CsvSpan> spans;
    for (;;) {
        spans.push_back(scanner.next_span(max_rows, max_bytes));
        if (spans.back().irregular || spans.back().rows == 0) return spans;
    }
}

// As COPY's input buffer hands them: each piece a heap block of its own exact size, the bytes
// past a span's end handed again to the next span.
std::vector<CsvSpan> pushed(const std::string &text, const CsvScanOptions &options, size_t max_rows,
                            size_t max_bytes, uint32_t seed, size_t max_cut) {
    CutSource cuts(std::string(), seed, max_cut);
    CsvSpanScanner scanner(options, 0, 1);
    std::vector<CsvSpan> spans;
    size_t position = 0;
    for (;;) {
        scanner.begin_span(max_rows, max_bytes);
        for (;;) {
            if (position == text.size()) {
                scanner.end_input();
                break;
            }
            const size_t size = cuts.next_cut(text.size() - position);
            std::unique_ptr<char[]> piece(new char[size]);
            std::memcpy(piece.get(), text.data() + position, size);
            const CsvScanStep step = scanner.scan_memory(piece.get(), size);
            expect(step.bytes_in_span <= size, "a span took more bytes than it was handed");
            position += step.bytes_in_span;
            if (step.span_ended) break;
            expect(step.bytes_in_span == size, "an unfinished span left bytes unused");
        }
        spans.push_back(scanner.span());
        if (spans.back().irregular || spans.back().rows == 0) return spans;
    }
}

void check_with_reader(const std::string &text, const CsvScanOptions &scan,
                       const std::vector<CsvSpan> &spans) {
    CsvOptions options;
    options.delimiter = scan.delimiter;
    options.quote = scan.quote;
    options.max_field_bytes = scan.max_field_bytes;
    options.max_row_bytes = scan.max_row_bytes;
    options.line_end = scan.line_end;
    // COPY checks the encoding itself; the scanner leaves that to it.
    options.validate_utf8 = false;
    StringByteSource source(text);
    const std::vector<ReadRow> rows = read_all(source, options, 0, 1, 1000, 64 << 20);
    size_t next = 0;
    for (const CsvSpan &span : spans) {
        if (span.irregular) return;
        while (next < rows.size() && rows[next].start_offset < span.start_offset) next++;
        for (uint64_t i = 0; i < span.rows; i++, next++) {
            expect(next < rows.size(), "the reader found fewer rows than a plain span holds");
            const ReadRow &row = rows[next];
            expect(row.error.empty(), "the reader refused a row of a plain span");
            expect(row.fields.size() == scan.field_count,
                   "the reader split a row of a plain span into another number of fields");
            if (i == 0)
                expect(row.start_offset == span.start_offset && row.line_number == span.start_line,
                       "a plain span does not start where the reader's row does");
            if (i + 1 == span.rows)
                expect(row.end_offset == span.end_offset && row.end_line == span.end_line,
                       "a plain span does not end where the reader's last row does");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider input(data, size);
    CsvScanOptions options;
    options.delimiter = input.PickValueInArray({',', ';', '\t', '|'});
    options.quote = input.PickValueInArray({'"', '\''});
    options.field_count = input.ConsumeIntegralInRange<size_t>(1, 6);
    options.line_end = input.PickValueInArray(
        {LineEnd::kNewline, LineEnd::kCarriageReturnNewline, LineEnd::kCarriageReturn});
    options.max_field_bytes = input.ConsumeIntegralInRange<size_t>(1, 64);
    options.max_row_bytes = input.ConsumeIntegralInRange<size_t>(1, 256);
    const size_t max_rows = input.ConsumeIntegralInRange<size_t>(1, 8);
    const size_t max_bytes = input.ConsumeIntegralInRange<size_t>(1, 256);
    const uint32_t seed = input.ConsumeIntegral<uint32_t>();
    const size_t max_cut = input.ConsumeIntegralInRange<size_t>(1, 32);
    const std::string text = input.ConsumeRemainingBytesAsString();

    const std::vector<CsvSpan> whole =
        pushed(text, options, max_rows, max_bytes, seed, text.size() + 1);
    expect(same(pulled(text, options, max_rows, max_bytes, seed, max_cut), whole),
           "pulled spans differ from spans pushed whole");
    expect(same(pushed(text, options, max_rows, max_bytes, seed, max_cut), whole),
           "spans pushed in random cuts differ from spans pushed whole");
    check_with_reader(text, options, whole);
    return 0;
}
