#include "core/csv/text_sniffer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pg_ingest {
namespace {

std::string describe(const std::string &head) {
    return describe_non_text(head.data(), head.size());
}

TEST(TextSniffer, ByteOrderMarksOfWideEncodings) {
    EXPECT_EQ(describe(std::string("\xFF\xFE"
                                   "i\0d\0",
                                   6)),
              "starts with a UTF-16LE byte order mark");
    EXPECT_EQ(describe(std::string("\xFE\xFF\0i\0d", 6)), "starts with a UTF-16BE byte order mark");
    EXPECT_EQ(describe(std::string("\xFF\xFE\0\0i\0\0\0", 8)),
              "starts with a UTF-32LE byte order mark");
    EXPECT_EQ(describe(std::string("\0\0\xFE\xFF\0\0\0i", 8)),
              "starts with a UTF-32BE byte order mark");
}

TEST(TextSniffer, NulHeavyContentIsNotText) {
    EXPECT_EQ(describe(std::string("i\0d\0\n\0", 6)),
              "has 3 NUL bytes in its first 6 bytes (UTF-16, UTF-32 or binary)");
    std::string wide;
    for (int i = 0; i < 5000; i++) wide += std::string("a\0", 2);
    EXPECT_EQ(describe(wide),
              "has 2048 NUL bytes in its first 4096 bytes (UTF-16, UTF-32 or binary)");
}

TEST(TextSniffer, TextWithAStrayNulOrUtf8MarkPasses) {
    EXPECT_EQ(describe(""), "");
    EXPECT_EQ(describe("\xEF\xBB\xBFid,note\n1,a\n"), "");
    EXPECT_EQ(describe(std::string("id,note\n1,a\0b\n2,b\n", 19)), "");
    EXPECT_EQ(describe("id,note\n6,2,caf\xE9\n"), "");
}

}  // namespace
}  // namespace pg_ingest
