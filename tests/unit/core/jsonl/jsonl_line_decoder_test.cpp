// The edge cases of issue 31's acceptance list. Each expectation that PostgreSQL decides is
// commented with what PostgreSQL 15.20 gives (run on a real server) for
//   CREATE TABLE t (a text, n numeric, j jsonb);
//   SELECT (jsonb_populate_record(NULL::t, 'LINE'::jsonb)).*;
// the two-step path that is the oracle of the mapping (its values are the texts the decoder must
// hand to the columns' input functions).
#include "core/jsonl/jsonl_line_decoder.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace pg_ingest {
namespace {

JsonlDecoderOptions table_t(UnknownKeyPolicy policy = UnknownKeyPolicy::kFail) {
    JsonlDecoderOptions options;
    options.columns = {{"a"}, {"n"}, {"j", JsonlColumnKind::kJson}};
    options.on_unknown_key = policy;
    return options;
}

// Each column's value: its text, "<NULL>" or "<missing>".
std::vector<std::string> values(const DecodedLine &line) {
    std::vector<std::string> out;
    for (size_t column = 0; column < line.values.size(); column++) {
        switch (line.values[column].state) {
            case JsonlValueState::kMissing:
                out.push_back("<missing>");
                break;
            case JsonlValueState::kNull:
                out.push_back("<NULL>");
                break;
            case JsonlValueState::kText:
                out.push_back(std::string(line.text(column)));
                break;
        }
    }
    return out;
}

DecodedLine decode(const std::string &line, JsonlDecoderOptions options = table_t(),
                   bool first_line = false) {
    JsonlLineDecoder decoder(std::move(options));
    DecodedLine decoded;
    decoder.decode(line, first_line, decoded);
    return decoded;
}

using Values = std::vector<std::string>;

TEST(JsonlLineDecoder, StringsAreUnescapedForTypedColumnsAndQuotedForJson) {
    // a = 😀 " \ / <BS><FF><LF><CR><TAB> <0x01>;  j = "😀 \" \\ / \b\f\n\r\t \u0001 <0x7f>"
    const DecodedLine line = decode(R"({"a": "\ud83d\ude00 \" \\ \/ \b\f\n\r\t \u0001", )"
                                    R"("j": "\ud83d\ude00 \" \\ \/ \b\f\n\r\t \u0001 )"
                                    "\x7f"
                                    R"("})");
    ASSERT_EQ(line.outcome, JsonlLineOutcome::kRow) << line.message;
    EXPECT_EQ(values(line), (Values{"\xF0\x9F\x98\x80 \" \\ / \b\f\n\r\t \x01", "<missing>",
                                    R"("😀 \" \\ / \b\f\n\r\t \u0001 )"
                                    "\x7f\""}));
    // A JSON string into jsonb: a jsonb string (j = "str"), not the text str.
    EXPECT_EQ(values(decode(R"({"a": "x", "j": "str"})")), (Values{"x", "<missing>", "\"str\""}));
}

TEST(JsonlLineDecoder, NulEscapeIsRefusedAsJsonbRefusesIt) {
    // ERROR:  unsupported Unicode escape sequence
    // DETAIL:  \u0000 cannot be converted to text.
    for (const char *text :
         {R"({"a": "x\u0000y"})", R"({"zzz": {"q": ["\u0000"]}})", R"({"\u0000": 1})"}) {
        const DecodedLine line = decode(text, table_t(UnknownKeyPolicy::kIgnore));
        EXPECT_EQ(line.outcome, JsonlLineOutcome::kUnsupportedEscape) << text;
        EXPECT_EQ(line.message,
                  "unsupported Unicode escape sequence: \\u0000 cannot be converted to text");
    }
}

TEST(JsonlLineDecoder, SurrogatePairsJoinAndLoneSurrogatesAreRefused) {
    EXPECT_EQ(values(decode(R"({"a": "\ud83d\ude00"})"))[0], "\xF0\x9F\x98\x80");  // a = 😀
    // ERROR:  invalid input syntax for type json, with DETAIL:
    //   \ud800, \ud800x, \udc00, \ud800\u0041: Unicode low surrogate must follow a high
    //   surrogate.   \ud800\ud800: Unicode high surrogate must not follow a high surrogate.
    for (const char *text : {R"({"a": "\ud800"})", R"({"a": "\ud800x"})", R"({"a": "\udc00"})",
                             R"({"a": "\ud800\u0041"})", R"({"a": "\ud800\ud800"})"})
        EXPECT_EQ(decode(text).outcome, JsonlLineOutcome::kInvalidJson) << text;
}

TEST(JsonlLineDecoder, NumbersAreJsonbsNumericText) {
    // a = 123456789012345678901234567890; a = 1 and 400 zeros, n = the same numeric;
    // a = 0, n = 0.0 for -0 and -0.0; a = 15.0, n = 0.01 for 1.50e1 and 1E-2.
    EXPECT_EQ(values(decode(R"({"a": 123456789012345678901234567890})"))[0],
              "123456789012345678901234567890");
    EXPECT_EQ(values(decode(R"({"a": 1e400, "n": 1e400})")),
              (Values{"1" + std::string(400, '0'), "1" + std::string(400, '0'), "<missing>"}));
    EXPECT_EQ(values(decode(R"({"a": -0, "n": -0.0})")), (Values{"0", "0.0", "<missing>"}));
    EXPECT_EQ(values(decode(R"({"a": 1.50e1, "n": 1E-2})")), (Values{"15.0", "0.01", "<missing>"}));
    // ERROR:  value overflows numeric format
    EXPECT_EQ(decode(R"({"a": 1e131072})").outcome, JsonlLineOutcome::kNumericOverflow);
    // ERROR:  invalid input syntax for type json DETAIL:  Token "01" is invalid.
    const DecodedLine leading_zero = decode(R"({"a": 01})");
    EXPECT_EQ(leading_zero.outcome, JsonlLineOutcome::kInvalidJson);
    EXPECT_EQ(leading_zero.message, "invalid input syntax for type json: Token \"01\" is invalid.");
}

TEST(JsonlLineDecoder, BooleansAndNulls) {
    // a = true (boolean into text: jsonb's text), null -> NULL.
    EXPECT_EQ(values(decode(R"({"a": true, "n": null, "j": false})")),
              (Values{"true", "<NULL>", "false"}));
    EXPECT_EQ(values(decode(R"({"a": null, "j": null})")),
              (Values{"<NULL>", "<missing>", "<NULL>"}));
}

TEST(JsonlLineDecoder, ObjectsAndArraysInJsonbsOutputForm) {
    // a = {"a": 2, "b": 1}  (keys sorted as jsonb does, the last duplicate kept)
    // j = {"a": 2, "bb": 1}
    EXPECT_EQ(
        values(decode(R"({"a":{"b":1,"a":[1,{"z":null,"y":"q"}],"a":2},"j":{"bb":1,"a":2}})")),
        (Values{R"({"a": 2, "b": 1})", "<missing>", R"({"a": 2, "bb": 1})"}));
    // Nested arrays into jsonb: jsonb's spacing; empty containers as {} and [].
    EXPECT_EQ(values(decode(R"({"j" :[ [1,[2, [ ]]] , {"y":[true,null] ,"x":{ }} ]})"))[2],
              R"([[1, [2, []]], {"x": {}, "y": [true, null]}])");
    // SELECT '{"":1,"aa":2,"b":3,"ab":4,"é":5}'::jsonb -> {"": 1, "b": 3, "aa": 2, "ab": 4, "é": 5}
    EXPECT_EQ(values(decode(R"({"j": {"":1,"aa":2,"b":3,"ab":4,"é":5}})"))[2],
              R"({"": 1, "b": 3, "aa": 2, "ab": 4, "é": 5})");
}

TEST(JsonlLineDecoder, DuplicateKeysTheLastWins) {
    // a = 2 for {"a": 1, "a": 2}; a = NULL for {"a": 1, "a": null}
    EXPECT_EQ(values(decode(R"({"a": 1, "a": 2})"))[0], "2");
    EXPECT_EQ(values(decode(R"({"a": 1, "a": null})"))[0], "<NULL>");
    EXPECT_EQ(values(decode(R"({"a": null, "a": "x"})"))[0], "x");
}

TEST(JsonlLineDecoder, MissingKeysTakeTheDefault) {
    EXPECT_EQ(values(decode("{}")), (Values{"<missing>", "<missing>", "<missing>"}));
    EXPECT_EQ(values(decode(R"({"n": 5})")), (Values{"<missing>", "5", "<missing>"}));
}

TEST(JsonlLineDecoder, ATenMegabyteLine) {
    const std::string big(10 << 20, 'x');
    JsonlDecoderOptions options = table_t();
    options.max_line_bytes = 16 << 20;
    const DecodedLine line = decode(R"({"a": ")" + big + R"(", "n": 1})", options);
    ASSERT_EQ(line.outcome, JsonlLineOutcome::kRow) << line.message;
    EXPECT_EQ(line.text(0), big);
    options.max_line_bytes = 10 << 20;
    const DecodedLine too_long = decode(R"({"a": ")" + big + R"("})", options);
    EXPECT_EQ(too_long.outcome, JsonlLineOutcome::kTooLong);
    EXPECT_EQ(too_long.message, "line exceeds 10485760 bytes (max_field_bytes)");
}

TEST(JsonlLineDecoder, ByteOrderMarkOnlyOnTheFirstLine) {
    const std::string line = "\xEF\xBB\xBF{\"a\": 1}";
    EXPECT_EQ(values(decode(line, table_t(), true))[0], "1");
    // A BOM inside a file is not whitespace: jsonb refuses it (Token "<BOM>" is invalid).
    EXPECT_EQ(decode(line, table_t(), false).outcome, JsonlLineOutcome::kInvalidJson);
}

TEST(JsonlLineDecoder, InvalidUtf8IsRejectedWithItsBytes) {
    // COPY of the raw line: ERROR:  invalid byte sequence for encoding "UTF8": 0xc3 0x28
    const DecodedLine line = decode("{\"a\": \"\xC3\x28\"}");
    EXPECT_EQ(line.outcome, JsonlLineOutcome::kInvalidUtf8);
    EXPECT_EQ(line.message, "invalid UTF-8 byte sequence 0xc3 0x28 at byte 8 of the line");
    // Surrogates encoded in UTF-8, overlong forms, bytes past U+10FFFF, NUL.
    for (const std::string &text : std::vector<std::string>{
             "{\"a\": \"\xED\xA0\x80\"}", "{\"a\": \"\xC0\xAF\"}", "{\"a\": \"\xF4\x90\x80\x80\"}",
             std::string("{\"a\": \"\0\"}", 10)})
        EXPECT_EQ(decode(text).outcome, JsonlLineOutcome::kInvalidUtf8);
}

TEST(JsonlLineDecoder, LinesThatAreNotRows) {
    EXPECT_EQ(decode("").outcome, JsonlLineOutcome::kBlank);
    EXPECT_EQ(decode(" \t\r").message, "blank line");
    // ERROR:  cannot call populate_composite on an array / on a scalar
    EXPECT_EQ(decode("[1]").message, "a JSON Lines line must be a JSON object, not an array");
    EXPECT_EQ(decode("\"x\"").message, "a JSON Lines line must be a JSON object, not a scalar");
    // ERROR:  invalid input syntax for type json (DETAIL: Token "x" is invalid. ...)
    for (const char *text :
         {R"({"a":1}x)", R"({"a":1}})", R"({"a":1,})", R"({"a" 1})", R"({"a":[1 2]})",
          R"({"a":tru})", R"({"a":1x2})", R"({"a":1.})", R"({"a":NaN})", "{\"a\":\"\x01\"}",
          R"({"a":1)", R"({"a":"x)", R"({'a':1})", R"({a:1})"})
        EXPECT_EQ(decode(text).outcome, JsonlLineOutcome::kInvalidJson) << text;
    // CR LF line ends: the CR is JSON whitespace.
    EXPECT_EQ(values(decode("{\"a\": 1}\r"))[0], "1");
}

TEST(JsonlLineDecoder, UnknownKeysFollowThePolicy) {
    const std::string line = R"({"a": 1, "zeta": "x", "b": {"y": 1, "x": [2]}, "c": 1.5})";
    const DecodedLine failed = decode(line);
    EXPECT_EQ(failed.outcome, JsonlLineOutcome::kUnknownKey);
    EXPECT_EQ(failed.message,
              "key \"b\" is not a column of the target (on_new_columns is fail; use ignore, "
              "rescue or add, or add the column)");
    const DecodedLine ignored = decode(line, table_t(UnknownKeyPolicy::kIgnore));
    EXPECT_EQ(ignored.outcome, JsonlLineOutcome::kRow);
    EXPECT_EQ(values(ignored), (Values{"1", "<missing>", "<missing>"}));

    JsonlDecoderOptions rescue = table_t(UnknownKeyPolicy::kRescue);
    rescue.rescue_column = 2;
    EXPECT_EQ(values(decode(line, rescue))[2],
              R"({"b": {"x": [2], "y": 1}, "c": 1.5, "zeta": "x"})");
    EXPECT_EQ(values(decode(R"({"a": 1})", rescue))[2], "<missing>");

    const DecodedLine added =
        decode(R"({"s": "x", "i": -12, "big": 99999999999999999999, "f": 1e2, "t": true, "o": {},)"
               R"( "l": [], "z": null})",
               table_t(UnknownKeyPolicy::kAdd));
    ASSERT_EQ(added.outcome, JsonlLineOutcome::kRow);
    std::vector<std::string> types;
    for (const UnknownKey &key : added.unknown_keys)
        types.push_back(key.name + ":" + std::string(sql_type_name(key.type)));
    EXPECT_EQ(types, (std::vector<std::string>{"f:numeric", "i:bigint", "l:jsonb", "o:jsonb",
                                               "s:text", "t:boolean", "z:", "big:numeric"}));
}

TEST(JsonlLineDecoder, JsonColumnsMapByPointer) {
    JsonlDecoderOptions options;
    options.columns = {{"user_id", JsonlColumnKind::kTyped, "/user/id"},
                       {"city", JsonlColumnKind::kTyped, "/geo/city"},
                       {"event"}};
    const DecodedLine line = decode(
        R"({"user": {"id": 7, "device": "ios"}, "geo": {"zip": 1}, "event": "view"})", options);
    ASSERT_EQ(line.outcome, JsonlLineOutcome::kRow) << line.message;
    // A pointer that finds nothing is a missing key; a pointer's first key is a known key.
    EXPECT_EQ(values(line), (Values{"7", "<missing>", "view"}));
}

TEST(JsonlLineDecoder, RefusesOptionsThatCannotDecode) {
    JsonlDecoderOptions twice;
    twice.columns = {{"a"}, {"a"}};
    EXPECT_THROW(JsonlLineDecoder{twice}, std::invalid_argument);
    JsonlDecoderOptions bad_pointer;
    bad_pointer.columns = {{"a", JsonlColumnKind::kTyped, "a/b"}};
    EXPECT_THROW(JsonlLineDecoder{bad_pointer}, std::invalid_argument);
    JsonlDecoderOptions bad_rescue = table_t(UnknownKeyPolicy::kRescue);
    bad_rescue.rescue_column = 3;
    EXPECT_THROW(JsonlLineDecoder{bad_rescue}, std::invalid_argument);
}

TEST(JsonlLineDecoder, ADecoderIsReusedLineAfterLine) {
    JsonlLineDecoder decoder(table_t(UnknownKeyPolicy::kIgnore));
    DecodedLine line;
    decoder.decode(R"({"a": "first", "n": 1})", true, line);
    decoder.decode("not json", false, line);
    EXPECT_EQ(line.outcome, JsonlLineOutcome::kInvalidJson);
    decoder.decode(R"({"j": [1]})", false, line);
    EXPECT_EQ(values(line), (Values{"<missing>", "<missing>", "[1]"}));
}

}  // namespace
}  // namespace pg_ingest
