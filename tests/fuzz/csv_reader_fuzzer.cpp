// CsvReader, differential: the rows of a whole read, of a read whose source hands its bytes in
// random cuts, and of a read resumed at a row's end (as after a crash) must be the same.
#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_support.hpp"

using namespace pg_ingest;
using namespace pg_ingest::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider input(data, size);
    CsvOptions options;
    options.delimiter = input.PickValueInArray({',', ';', '\t', '|'});
    options.quote = input.PickValueInArray({'"', '\''});
    options.null_string = input.PickValueInArray({"", "\\N", "NULL"});
    options.max_field_bytes = input.ConsumeIntegralInRange<size_t>(1, 64);
    options.max_row_fields = input.ConsumeIntegralInRange<size_t>(1, 16);
    options.validate_utf8 = input.ConsumeBool();
    options.line_end =
        input.PickValueInArray({LineEnd::kUnknown, LineEnd::kNewline,
                                LineEnd::kCarriageReturnNewline, LineEnd::kCarriageReturn});
    const size_t max_rows = input.ConsumeIntegralInRange<size_t>(1, 8);
    const size_t max_bytes = input.ConsumeIntegralInRange<size_t>(1, 256);
    const uint32_t seed = input.ConsumeIntegral<uint32_t>();
    const size_t max_cut = input.ConsumeIntegralInRange<size_t>(1, 32);
    const size_t resume_pick = input.ConsumeIntegral<uint16_t>();
    const std::string text = input.ConsumeRemainingBytesAsString();

    StringByteSource whole_source(text);
    LineEnd settled = LineEnd::kUnknown;
    const std::vector<ReadRow> whole =
        read_all(whole_source, options, 0, 1, max_rows, 64 << 20, &settled);
    CutSource cut_source(text, seed, max_cut);
    expect(read_all(cut_source, options, 0, 1, max_rows, max_bytes) == whole,
           "a read in random cuts gave other rows than a whole read");
    if (!whole.empty())
        expect(whole.back().end_offset == text.size(), "the last row does not end the input");
    for (size_t i = 1; i < whole.size(); i++)
        expect(whole[i].start_offset == whole[i - 1].end_offset &&
                   whole[i].line_number == whole[i - 1].end_line,
               "a row does not start where the one before ended");

    // Resumed at the end of row k, told the line end the start settled on (as a worker resuming
    // a file is): the rows after k, the same.
    if (whole.empty()) return 0;
    options.line_end = settled;
    const size_t k = resume_pick % whole.size();
    const ReadRow &resume_at = whole[k];
    CutSource rest(text.substr(resume_at.end_offset), seed + 1, max_cut);
    const std::vector<ReadRow> resumed =
        read_all(rest, options, resume_at.end_offset, resume_at.end_line, max_rows, max_bytes);
    expect(resumed == std::vector<ReadRow>(whole.begin() + k + 1, whole.end()),
           "a read resumed at a row's end gave other rows than the rest of a whole read");
    return 0;
}
