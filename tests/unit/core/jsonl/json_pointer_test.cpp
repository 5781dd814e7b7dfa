#include "core/jsonl/json_pointer.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/jsonl/json_line_parser.hpp"
#include "core/jsonl/jsonb_text.hpp"

namespace pg_ingest {
namespace {

// The jsonb text of what `pointer` finds in `line`, or "(nothing)".
std::string find(const std::string &line, const std::string &pointer) {
    JsonLineParser parser;
    JsonTree tree;
    const JsonParseResult parsed = parser.parse(line, tree);
    EXPECT_EQ(parsed.outcome, JsonParseOutcome::kParsed) << parsed.message;
    const std::optional<uint32_t> found = JsonPointer(pointer).resolve(tree, parsed.root);
    if (!found) return "(nothing)";
    std::string text;
    append_jsonb_text(tree, *found, text);
    return text;
}

TEST(JsonPointer, UnescapesReferenceTokens) {
    EXPECT_EQ(JsonPointer("/user/id").tokens(), (std::vector<std::string>{"user", "id"}));
    EXPECT_EQ(JsonPointer("/a~1b/c~0d/~01").tokens(),
              (std::vector<std::string>{"a/b", "c~d", "~1"}));
    EXPECT_EQ(JsonPointer("/").tokens(), (std::vector<std::string>{""}));
    EXPECT_TRUE(JsonPointer("").tokens().empty());
}

TEST(JsonPointer, RefusesWhatIsNotAPointer) {
    EXPECT_THROW(JsonPointer("user/id"), std::invalid_argument);
    EXPECT_THROW(JsonPointer("/a~2"), std::invalid_argument);
    EXPECT_THROW(JsonPointer("/a~"), std::invalid_argument);
}

TEST(JsonPointer, FindsMembersAndItems) {
    const std::string line =
        R"({"user": {"id": 7, "geo": {"city": "Lyon"}}, "tags": ["a", ["b", "c"]], "a/b": 1,)"
        R"( "": 2, "m~n": 3})";
    EXPECT_EQ(find(line, "/user/id"), "7");
    EXPECT_EQ(find(line, "/user/geo/city"), "\"Lyon\"");
    EXPECT_EQ(find(line, "/user/geo"), R"({"city": "Lyon"})");
    EXPECT_EQ(find(line, "/tags/1/0"), "\"b\"");
    EXPECT_EQ(find(line, "/a~1b"), "1");
    EXPECT_EQ(find(line, "/"), "2");
    EXPECT_EQ(find(line, "/m~0n"), "3");
    EXPECT_EQ(find(line, ""), find(line, ""));  // the whole line
}

TEST(JsonPointer, FindsNothingWhereNothingIs) {
    const std::string line = R"({"user": {"id": 7}, "tags": ["a", "b"]})";
    EXPECT_EQ(find(line, "/user/name"), "(nothing)");
    EXPECT_EQ(find(line, "/tags/2"), "(nothing)");
    EXPECT_EQ(find(line, "/tags/-"), "(nothing)");
    EXPECT_EQ(find(line, "/tags/01"), "(nothing)");  // no leading zeros (RFC 6901)
    EXPECT_EQ(find(line, "/user/id/x"), "(nothing)");
    EXPECT_EQ(find(line, "/nope/x"), "(nothing)");
}

TEST(JsonPointer, DuplicateKeysFindTheLast) {
    EXPECT_EQ(find(R"({"user": {"id": 1, "id": 2}, "user": {"id": 3}})", "/user/id"), "3");
}

}  // namespace
}  // namespace pg_ingest
