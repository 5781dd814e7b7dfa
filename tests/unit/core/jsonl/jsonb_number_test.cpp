// Each expectation is what PostgreSQL 15.20 gives for SELECT '{"a": TOKEN}'::jsonb (checked on a
// real server): the text jsonb_populate_record hands to a text, numeric or integer column.
#include "core/jsonl/jsonb_number.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pg_ingest {
namespace {

std::string jsonb_number(const std::string &token) {
    std::string out;
    const JsonbNumberOutcome outcome = append_jsonb_number(token, out);
    if (outcome == JsonbNumberOutcome::kInvalidToken) return "invalid";
    if (outcome == JsonbNumberOutcome::kOverflow) return "overflow";
    return out;
}

TEST(JsonbNumber, PlainNumbersComeBackAsWritten) {
    EXPECT_EQ(jsonb_number("0"), "0");
    EXPECT_EQ(jsonb_number("42"), "42");
    EXPECT_EQ(jsonb_number("-7"), "-7");
    EXPECT_EQ(jsonb_number("1.50"), "1.50");  // numeric keeps the scale
    EXPECT_EQ(jsonb_number("-0.001"), "-0.001");
    // Past bigint and past double: numeric keeps every digit.
    EXPECT_EQ(jsonb_number("123456789012345678901234567890"), "123456789012345678901234567890");
}

TEST(JsonbNumber, NegativeZeroLosesItsSign) {
    EXPECT_EQ(jsonb_number("-0"), "0");      // {"a": 0}
    EXPECT_EQ(jsonb_number("-0.0"), "0.0");  // {"a": 0.0}
    EXPECT_EQ(jsonb_number("-0.0e0"), "0.0");
}

TEST(JsonbNumber, ExponentsArePrintedOut) {
    EXPECT_EQ(jsonb_number("1e2"), "100");
    EXPECT_EQ(jsonb_number("1E+0002"), "100");
    EXPECT_EQ(jsonb_number("1.0e+1"), "10");
    EXPECT_EQ(jsonb_number("1.50e1"), "15.0");
    EXPECT_EQ(jsonb_number("1E-2"), "0.01");
    EXPECT_EQ(jsonb_number("5e-1"), "0.5");
    EXPECT_EQ(jsonb_number("0.5e1"), "5");
    EXPECT_EQ(jsonb_number("100e-2"), "1.00");
    EXPECT_EQ(jsonb_number("-12.3400e1"), "-123.400");
    EXPECT_EQ(jsonb_number("0.00e-5"), "0.0000000");
    EXPECT_EQ(jsonb_number("0e5000"), "0");
    EXPECT_EQ(jsonb_number("0.05e1"), "0.5");
}

TEST(JsonbNumber, HugeExponentsWithinNumeric) {
    // 1e400: a double's infinity, but numeric's 1 and 400 zeros (into text and numeric alike).
    EXPECT_EQ(jsonb_number("1e400"), "1" + std::string(400, '0'));
    EXPECT_EQ(jsonb_number("1e-400"), "0." + std::string(399, '0') + "1");
    EXPECT_EQ(jsonb_number("1e1001"), "1" + std::string(1001, '0'));  // accepted by 15.20
    EXPECT_EQ(jsonb_number("1e131071"), "1" + std::string(131071, '0'));
    EXPECT_EQ(jsonb_number("0e-16383"), "0." + std::string(16383, '0'));
    EXPECT_EQ(jsonb_number("0." + std::string(16383, '1')), "0." + std::string(16383, '1'));
}

TEST(JsonbNumber, BeyondNumericOverflows) {
    // ERROR:  value overflows numeric format
    EXPECT_EQ(jsonb_number("1e131072"), "overflow");
    EXPECT_EQ(jsonb_number("1" + std::string(131072, '0')), "overflow");
    EXPECT_EQ(jsonb_number("1" + std::string(131000, '0') + "e100"), "overflow");
    EXPECT_EQ(jsonb_number("0e-16384"), "overflow");
    EXPECT_EQ(jsonb_number("0.0001e-16380"), "overflow");
    EXPECT_EQ(jsonb_number("0." + std::string(16384, '1')), "overflow");
    EXPECT_EQ(jsonb_number("1e99999999999"), "overflow");
    EXPECT_EQ(jsonb_number("0e1073741823"), "overflow");  // even zero: the exponent itself
    EXPECT_EQ(jsonb_number("1e1073741822"), "overflow");
}

TEST(JsonbNumber, TokensOutsideTheGrammarAreInvalid) {
    // ERROR:  invalid input syntax for type json DETAIL:  Token "01" is invalid.
    for (const char *token : {"01", "-", "1.", ".5", "+1", "1e", "1e+", "NaN", "Infinity", "1x2",
                              "0x10", "--1", "1.2.3", ""})
        EXPECT_EQ(jsonb_number(token), "invalid") << token;
}

}  // namespace
}  // namespace pg_ingest
