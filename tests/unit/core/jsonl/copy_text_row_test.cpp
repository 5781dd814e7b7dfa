#include "core/jsonl/copy_text_row.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pg_ingest {
namespace {

DecodedLine decode(const std::string &text) {
    JsonlDecoderOptions options;
    options.columns = {{"a"}, {"b"}, {"c"}};
    JsonlLineDecoder decoder(options);
    DecodedLine line;
    decoder.decode(text, false, line);
    return line;
}

TEST(CopyTextRow, PresentColumnsOnlyTabSeparated) {
    const DecodedLine line = decode(R"({"c": "z", "a": null})");
    std::vector<uint32_t> present;
    present_columns(line, present);
    EXPECT_EQ(present, (std::vector<uint32_t>{0, 2}));
    std::string out;
    append_copy_text_row(line, out);
    EXPECT_EQ(out, "\\N\tz\n");
}

TEST(CopyTextRow, EscapesWhatWouldEndAFieldOrALine) {
    std::string out;
    append_copy_text_row(decode(R"({"a": "x\\y\tz\nw\rv", "b": "\\N", "c": "\\."})"), out);
    EXPECT_EQ(out, "x\\\\y\\tz\\nw\\rv\t\\\\N\t\\\\.\n");
}

TEST(CopyTextRow, AnEmptyStringIsNotNull) {
    std::string out;
    append_copy_text_row(decode(R"({"a": "", "b": 1, "c": ""})"), out);
    EXPECT_EQ(out, "\t1\t\n");
}

TEST(CopyTextRow, NoPresentColumnIsAnEmptyLine) {
    std::string out;
    append_copy_text_row(decode("{}"), out);
    EXPECT_EQ(out, "\n");
}

}  // namespace
}  // namespace pg_ingest
