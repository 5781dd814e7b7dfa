#include "core/discovery/glob_overlap.hpp"
#include "core/discovery/source_overlap.hpp"

#include <gtest/gtest.h>

#include <fnmatch.h>

#include <clocale>

#include <string>

namespace pg_ingest {
namespace {

// The name found must really match both globs, as the worker matches them.
void expect_common(const std::string &glob, const std::string &other, const std::string &name) {
    std::optional<std::string> found = common_file_name(glob, other);
    ASSERT_TRUE(found.has_value()) << glob << " and " << other;
    EXPECT_EQ(*found, name);
    EXPECT_EQ(fnmatch(glob.c_str(), found->c_str(), FNM_PERIOD), 0);
    EXPECT_EQ(fnmatch(other.c_str(), found->c_str(), FNM_PERIOD), 0);
}

void expect_disjoint(const std::string &glob, const std::string &other) {
    EXPECT_EQ(common_file_name(glob, other), std::nullopt) << glob << " and " << other;
    EXPECT_EQ(common_file_name(other, glob), std::nullopt) << other << " and " << glob;
}

TEST(GlobOverlapTest, FindsTheShortestCommonName) {
    expect_common("*.csv", "*", "a.csv");
    expect_common("*.csv", "*.csv", "a.csv");
    expect_common("a*", "*b", "ab");
    expect_common("*.csv", "data_*", "data_.csv");
    expect_common("?.csv", "[x-z].*", "x.csv");
    expect_common("[!a]*", "*", "b");
    expect_common("*.c?v", "*.[!t]sv", "a.csv");
}

TEST(GlobOverlapTest, DisjointGlobsShareNoName) {
    expect_disjoint("*.csv", "*.txt");
    expect_disjoint("a*", "b*");
    expect_disjoint("?", "??");
    expect_disjoint("[a-c]*", "[d-z]*");
    expect_disjoint("[!a]", "a");
    expect_disjoint("*.csv", "*.csv.gz");
    // '/' is in no file name, and a source takes no name starting with '.'.
    expect_disjoint("a?b", "a/b");
    expect_disjoint(".*", "*");
}

TEST(GlobOverlapTest, EscapesAndBracketsAreReadAsFnmatchReadsThem) {
    expect_disjoint("\\*", "a");
    expect_common("\\*", "?", "*");
    expect_common("[]]", "?", "]");
    expect_common("[^x]", "[x-y]", "y");
    expect_common("[", "?", "[");  // no closing ']': a literal '['
    expect_disjoint("[a-c]x", "[!a-c]x");
    // A character class is taken to match any character: never missed, perhaps refused.
    EXPECT_EQ(common_file_name("[[:digit:]]*", "a*"), "a");
    EXPECT_EQ(escape_glob("*.done?[x]\\"), "\\*.done\\?\\[x]\\\\");
}

TEST(GlobOverlapTest, ReadsNamesAsUtf8CharactersAndAsBytes) {
    // "??" matches the two bytes of "é" in the C locale, though "é" is one UTF-8 character.
    std::optional<std::string> found = common_file_name("??.csv", "\xc3\xa9.csv");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(*found, "\xc3\xa9.csv");
    // "?" matches "é" as a UTF-8 character.
    std::string previous = setlocale(LC_CTYPE, nullptr);
    ASSERT_NE(setlocale(LC_CTYPE, "C.UTF-8"), nullptr);
    expect_common("?.csv", "\xc3\xa9.csv", "\xc3\xa9.csv");
    setlocale(LC_CTYPE, previous.c_str());
    expect_disjoint("[\xc3\xa9]*", "a*");
}

SourceFiles source_in(DirectoryKey directory, std::string pattern) {
    return SourceFiles{directory, std::nullopt, std::move(pattern), ""};
}

TEST(SourceOverlapTest, SourcesOverlapInOneDirectoryWhenTheirNamesDo) {
    DirectoryKey inbox{1, 10};
    DirectoryKey other_dir{1, 11};
    EXPECT_FALSE(find_overlap(source_in(inbox, "*.csv"), source_in(inbox, "*.txt")));
    EXPECT_FALSE(find_overlap(source_in(inbox, "*.csv"), source_in(other_dir, "*.csv")));
    std::optional<Overlap> overlap = find_overlap(source_in(inbox, "*"), source_in(inbox, "*.csv"));
    ASSERT_TRUE(overlap);
    EXPECT_EQ(overlap->where, SharedDirectory::directory_of_both);
    EXPECT_EQ(describe_overlap("s2", "s1", "", "/in", "", *overlap),
              "source \"s2\" can take the files of source \"s1\": \"/in\" is the directory of "
              "both, and the file name \"a.csv\" matches both \"*\" and \"*.csv\"");
}

TEST(SourceOverlapTest, ReadyMarkersAreNamesTheSourceTakes) {
    DirectoryKey inbox{1, 10};
    SourceFiles marked{inbox, std::nullopt, "*.csv", ".done"};
    std::optional<Overlap> overlap = find_overlap(source_in(inbox, "*.done"), marked);
    ASSERT_TRUE(overlap);
    EXPECT_EQ(overlap->other_glob, "*.csv.done");
    EXPECT_EQ(overlap->example, "a.csv.done");
    EXPECT_FALSE(find_overlap(source_in(inbox, "*.txt"), marked));
}

TEST(SourceOverlapTest, AnArchiveDirectoryIsWhereTheMoverTakesItsFiles) {
    DirectoryKey inbox{1, 10};
    DirectoryKey archive{1, 12};
    SourceFiles mover{inbox, archive, "*.csv", ""};
    std::optional<Overlap> overlap = find_overlap(mover, source_in(archive, "*"));
    ASSERT_TRUE(overlap);
    EXPECT_EQ(overlap->where, SharedDirectory::archive_is_other_directory);
    EXPECT_EQ(describe_overlap("s1", "s2", "db2", "/in", "/archive", *overlap),
              "source \"s1\" can take the files of source \"s2\" of database \"db2\": "
              "\"/archive\" is the archive_directory of source \"s1\" and the directory of "
              "source \"s2\" of database \"db2\", and the file name \"a.csv\" matches both "
              "\"*.csv\" and \"*\"");
    overlap = find_overlap(source_in(archive, "*"), mover);
    ASSERT_TRUE(overlap);
    EXPECT_EQ(overlap->where, SharedDirectory::directory_is_other_archive);
    EXPECT_FALSE(find_overlap(mover, source_in(archive, "*.txt")));
    // Two sources may archive into one directory: neither loads from it.
    EXPECT_FALSE(find_overlap(mover, SourceFiles{{1, 13}, archive, "*", ""}));
}

}  // namespace
}  // namespace pg_ingest
