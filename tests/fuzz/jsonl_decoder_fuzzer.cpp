// JsonlLineDecoder, differential: decoding never crashes; a row's COPY text line has exactly one
// field per present column, and unescaping it gives the decoded texts back; and the decoder
// agrees with simdjson's DOM parser, a second, independent reading of the same bytes (DOM is
// strict but parses numbers into doubles, so it alone refuses numbers beyond a double): a line
// DOM accepts as an object is a row unless jsonb refuses it (\u0000, numeric's limits), a line
// DOM refuses for anything but a number is not a row, and every top-level string DOM reads is
// the text a typed column gets.
#include <fuzzer/FuzzedDataProvider.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "core/jsonl/copy_text_row.hpp"
#include "core/jsonl/jsonl_line_decoder.hpp"
#include "fuzz_support.hpp"

using namespace pg_ingest;
using namespace pg_ingest::fuzz;

namespace {

// The fields of a COPY text line (without its "\n"), unescaped; "\x01NULL" for \N.
std::vector<std::string> copy_fields(const std::string &line) {
    std::vector<std::string> fields(1);
    for (size_t i = 0; i < line.size(); i++) {
        if (line[i] == '\t') {
            fields.emplace_back();
        } else if (line[i] != '\\') {
            fields.back() += line[i];
        } else {
            expect(i + 1 < line.size(), "a COPY line ends in a lone backslash");
            const char escaped = line[++i];
            expect(escaped == '\\' || escaped == 't' || escaped == 'n' || escaped == 'r' ||
                       escaped == 'N',
                   "a COPY line has an escape the writer never writes");
            fields.back() += escaped == 't'   ? "\t"
                             : escaped == 'n' ? "\n"
                             : escaped == 'r' ? "\r"
                             : escaped == 'N' ? "\x01NULL"
                                              : "\\";
        }
    }
    return fields;
}

void check_copy_line(const DecodedLine &line) {
    std::string out;
    append_copy_text_row(line, out);
    expect(!out.empty() && out.back() == '\n', "a COPY line does not end in a newline");
    out.pop_back();
    expect(out.find('\n') == std::string::npos, "a COPY line holds a raw newline");
    std::vector<uint32_t> present;
    present_columns(line, present);
    if (present.empty()) return expect(out.empty(), "a row without columns has a COPY field");
    const std::vector<std::string> fields = copy_fields(out);
    expect(fields.size() == present.size(), "a COPY line has not one field per present column");
    for (size_t i = 0; i < present.size(); i++) {
        const bool null = line.values[present[i]].state == JsonlValueState::kNull;
        expect(fields[i] == (null ? "\x01NULL" : std::string(line.text(present[i]))),
               "a COPY field does not unescape to the decoded text");
    }
}

// What DOM reads of the line: its error, and the last string of each top-level key.
void compare_with_dom(const std::string &text, const JsonlLineDecoder &decoder,
                      const DecodedLine &line) {
    static simdjson::dom::parser parser;
    simdjson::dom::element root;
    const simdjson::error_code error = parser.parse(text).get(root);
    const bool number_limits =
        error == simdjson::NUMBER_ERROR || error == simdjson::NUMBER_OUT_OF_RANGE;
    if (error) {
        if (!number_limits && error != simdjson::DEPTH_ERROR)
            expect(line.outcome != JsonlLineOutcome::kRow &&
                       line.outcome != JsonlLineOutcome::kUnknownKey,
                   "a line DOM refuses is a row");
        return;
    }
    if (!root.is_object()) {
        expect(line.outcome == JsonlLineOutcome::kNotAnObject ||
                   line.outcome == JsonlLineOutcome::kNumericOverflow ||
                   line.outcome == JsonlLineOutcome::kUnsupportedEscape,
               "DOM's non-object is not refused");
        return;
    }
    expect(line.outcome == JsonlLineOutcome::kRow ||
               line.outcome == JsonlLineOutcome::kUnknownKey ||
               line.outcome == JsonlLineOutcome::kUnsupportedEscape ||
               line.outcome == JsonlLineOutcome::kNumericOverflow,
           "a line DOM accepts is refused");
    if (line.outcome != JsonlLineOutcome::kRow) return;
    const simdjson::dom::object object = root.get_object().value_unsafe();
    const std::vector<JsonlColumn> &columns = decoder.options().columns;
    for (size_t column = 0; column < columns.size(); column++) {
        if (columns[column].json_pointer || columns[column].kind != JsonlColumnKind::kTyped ||
            decoder.options().rescue_column == column)
            continue;
        std::string_view last_string;
        bool string_last = false, present = false;
        for (auto member : object) {
            if (member.key != columns[column].name) continue;
            present = true;
            string_last = member.value.is_string();
            if (string_last) last_string = member.value.get_string().value_unsafe();
        }
        expect(present == (line.values[column].state != JsonlValueState::kMissing),
               "DOM and the decoder disagree on whether a key is present");
        if (string_last)
            expect(line.text(column) == last_string, "DOM reads another string for a key");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider input(data, size);
    JsonlDecoderOptions options;
    options.columns = {{"a"}, {"b", JsonlColumnKind::kJson}, {"c"}};
    if (input.ConsumeBool()) options.columns.push_back({"p", JsonlColumnKind::kTyped, "/a/0"});
    if (input.ConsumeBool()) options.columns.push_back({"q", JsonlColumnKind::kJson, "/d/e~1f"});
    options.on_unknown_key =
        input.PickValueInArray({UnknownKeyPolicy::kFail, UnknownKeyPolicy::kIgnore,
                                UnknownKeyPolicy::kRescue, UnknownKeyPolicy::kAdd});
    if (options.on_unknown_key == UnknownKeyPolicy::kRescue) options.rescue_column = 2;
    options.max_line_bytes = input.ConsumeIntegralInRange<size_t>(1, 1 << 16);
    const bool first_line = input.ConsumeBool();
    const std::string text = input.ConsumeRemainingBytesAsString();

    JsonlLineDecoder decoder(options);
    DecodedLine line;
    decoder.decode(text, first_line, line);
    expect((line.outcome == JsonlLineOutcome::kRow) == line.message.empty(),
           "a rejected line has no message, or a row has one");
    if (line.outcome == JsonlLineOutcome::kRow) check_copy_line(line);
    const bool bom = first_line && text.compare(0, 3, "\xEF\xBB\xBF") == 0;
    if (!bom && text.size() <= options.max_line_bytes && line.outcome != JsonlLineOutcome::kBlank)
        compare_with_dom(text, decoder, line);

    DecodedLine again;  // a decoder reused after any line decodes the same line the same way
    decoder.decode(text, first_line, again);
    expect(again.outcome == line.outcome && again.texts == line.texts, "a second decoding differs");
    return 0;
}
