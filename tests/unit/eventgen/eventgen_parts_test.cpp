// Tests of eventgen's building blocks through the library, without running the binary.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "bad_rows.hpp"
#include "event_csv.hpp"
#include "event_file_generator.hpp"
#include "file_naming.hpp"
#include "file_sink.hpp"
#include "manifest.hpp"
#include "table_ddl.hpp"
#include "utc_time.hpp"
#include "uuid.hpp"
#include "zipf_sampler.hpp"

namespace eventgen {
namespace {

namespace fs = std::filesystem;

using test_support::TempDir;

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string uuid_text(const Uuid &uuid) {
    char text[kUuidTextLength];
    format_uuid(uuid, text);
    return std::string(text, kUuidTextLength);
}

std::string timestamp_text(int64_t unix_micros) {
    TimestampFormatter formatter;
    char text[kTimestampTextLength];
    formatter.format(unix_micros, text);
    return std::string(text, kTimestampTextLength);
}

std::string csv_row_text(const RowFields &row) {
    OutputBuffer out(16);
    append_csv_row(row, out);
    return std::string(out.data(), out.size());
}

RowFields sample_row() {
    RowFields row;
    const std::string_view fields[] = {"3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                                       "100123",
                                       "4242",
                                       "view",
                                       "2026-01-01 00:00:00.000001+00",
                                       "19.99",
                                       "books",
                                       "mobile",
                                       "Berlin"};
    std::copy(std::begin(fields), std::end(fields), row.field);
    return row;
}

TEST(EventgenPartsTest, UuidsAreVersion4InCanonicalForm) {
    EXPECT_EQ(uuid_text(Uuid{0x0123456789abcdefULL, 0xfedcba9876543210ULL}),
              "01234567-89ab-cdef-fedc-ba9876543210");
    RandomEngine rng = RandomEngine::from_seed(1);
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const std::string text = uuid_text(random_uuid_v4(rng));
        EXPECT_EQ(text[14], '4') << text;
        EXPECT_NE(std::string("89ab").find(text[19]), std::string::npos) << text;
        seen.insert(text);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(EventgenPartsTest, TimestampsAreIsoWithMicrosecondsAndUtcOffset) {
    EXPECT_EQ(timestamp_text(0), "1970-01-01 00:00:00.000000+00");
    EXPECT_EQ(timestamp_text(kSeededEpochMicros), "2026-01-01 00:00:00.000000+00");
    EXPECT_EQ(timestamp_text(1709251199999999), "2024-02-29 23:59:59.999999+00");
    EXPECT_EQ(timestamp_text(951782400123456), "2000-02-29 00:00:00.123456+00");
    // Agrees with the C library everywhere else, including the cached-second path.
    TimestampFormatter formatter;
    RandomEngine rng = RandomEngine::from_seed(2);
    int64_t micros = 0;
    for (int i = 0; i < 20000; ++i) {
        micros += static_cast<int64_t>(rng.next_u64() % (i % 2 ? 1000000 : 40000000000000));
        char text[kTimestampTextLength];
        formatter.format(micros, text);
        const time_t seconds = static_cast<time_t>(micros / 1000000);
        struct tm civil;
        gmtime_r(&seconds, &civil);
        char expected[64];
        snprintf(expected, sizeof expected, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00",
                 civil.tm_year + 1900, civil.tm_mon + 1, civil.tm_mday, civil.tm_hour, civil.tm_min,
                 civil.tm_sec, static_cast<long long>(micros % 1000000));
        ASSERT_EQ(std::string(text, kTimestampTextLength), expected);
        if (micros > 9000LL * 365 * 86400 * 1000000) micros = 0;  // stay within four-digit years
    }
}

TEST(EventgenPartsTest, FileNamesSortInTheOrderTheyAreHandedOut) {
    FileNamer namer("user_events");
    EXPECT_EQ(namer.name_for(1764000000123, 0), "user_events_20251124_160000_123.csv");
    EXPECT_EQ(namer.name_for(1764000000123, 7), "user_events_20251124_160000_123_007.csv");
    EXPECT_LT(namer.name_for(1764000000123, 0), namer.name_for(1764000000123, 1));
    EXPECT_LT(namer.name_for(1764000000123, 999), namer.name_for(1764000000124, 0));
    std::vector<std::string> names;
    for (int i = 0; i < 5000; ++i) names.push_back(namer.next());  // many within one millisecond
    for (size_t i = 1; i < names.size(); ++i) ASSERT_LT(names[i - 1], names[i]);
}

TEST(EventgenPartsTest, CsvRowsQuoteOnlyWhatNeedsIt) {
    RowFields row = sample_row();
    EXPECT_EQ(csv_row_text(row),
              "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f,100123,4242,view,2026-01-01 00:00:00.000001+00,"
              "19.99,books,mobile,Berlin\n");
    row.field[kLocationColumn] = "Washington, D.C.";
    row.field[kCategoryColumn] = "say \"hi\"";
    EXPECT_EQ(csv_row_text(row),
              "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f,100123,4242,view,2026-01-01 00:00:00.000001+00,"
              "19.99,\"say \"\"hi\"\"\",mobile,\"Washington, D.C.\"\n");
    row.leave_last_quote_open = true;
    const std::string open = csv_row_text(row);
    EXPECT_EQ(open.substr(open.size() - 18), ",\"Washington, D.C.");
}

TEST(EventgenPartsTest, ZipfSamplerFavoursLowRanks) {
    const ZipfSampler sampler(1000, 1.0);
    RandomEngine rng = RandomEngine::from_seed(3);
    std::vector<int> counts(1000);
    constexpr int kDraws = 1000000;
    for (int i = 0; i < kDraws; ++i) ++counts.at(sampler.sample(rng));
    // Weight 1/(k+1): rank 0 gets 1/H(1000) = 13.4% and twice rank 1; rank 999 gets 0.013%.
    EXPECT_NEAR(counts[0] / double(kDraws), 0.1336, 0.005);
    EXPECT_NEAR(counts[0] / double(counts[1]), 2.0, 0.1);
    EXPECT_NEAR(counts[0] / double(counts[9]), 10.0, 1.0);
    EXPECT_GT(counts[999], 0);
}

TEST(EventgenPartsTest, InjectorSpoilsNothingAtZeroAndEverythingAtOne) {
    BadRowInjector never(RandomEngine::from_seed(4), 0);
    for (int i = 0; i < 1000; ++i) {
        RowFields row = sample_row();
        EXPECT_FALSE(never.maybe_spoil(row, i == 999));
    }
    BadRowInjector always(RandomEngine::from_seed(4), 1);
    always.start_file();
    std::set<BadRowKind> kinds;
    for (int i = 0; i < 1000; ++i) {
        RowFields row = sample_row();
        const auto kind = always.maybe_spoil(row, false);
        ASSERT_TRUE(kind);
        // Nothing good was written yet, so there is no id to duplicate.
        EXPECT_NE(*kind, BadRowKind::kDuplicateEventId);
        EXPECT_NE(*kind, BadRowKind::kUnterminatedQuote);
        kinds.insert(*kind);
    }
    EXPECT_EQ(kinds.size(), 5u);
    RowFields last = sample_row();
    EXPECT_EQ(always.maybe_spoil(last, true), BadRowKind::kUnterminatedQuote);
    EXPECT_TRUE(last.leave_last_quote_open);
}

TEST(EventgenPartsTest, DuplicatesRepeatARememberedGoodId) {
    BadRowInjector injector(RandomEngine::from_seed(5), 1);
    injector.start_file();
    const Uuid good{0x1111111111114111ULL, 0x8111111111111111ULL};
    injector.remember_good_id(good);
    int duplicates = 0;
    for (int i = 0; i < 200; ++i) {
        RowFields row = sample_row();
        if (injector.maybe_spoil(row, false) == BadRowKind::kDuplicateEventId) {
            ++duplicates;
            EXPECT_EQ(row.field[kEventIdColumn], uuid_text(good));
        }
    }
    EXPECT_GT(duplicates, 0);
    // A new file forgets the ids of the previous one.
    injector.start_file();
    for (int i = 0; i < 200; ++i) {
        RowFields row = sample_row();
        EXPECT_NE(injector.maybe_spoil(row, false), BadRowKind::kDuplicateEventId);
    }
}

TEST(EventgenPartsTest, ManifestJsonLayout) {
    FileManifest manifest;
    manifest.data_lines = 10;
    manifest.seed = 9;
    manifest.bad_row_fraction = 0.25;
    manifest.bad_lines[static_cast<size_t>(BadRowKind::kBadPrice)] = {3, 7};
    manifest.bad_lines[static_cast<size_t>(BadRowKind::kUnterminatedQuote)] = {11};
    EXPECT_EQ(manifest_json(manifest, "user_events_20261124_101502_123.csv"),
              R"({
  "file": "user_events_20261124_101502_123.csv",
  "header_lines": 1,
  "data_lines": 10,
  "good_lines": 7,
  "bad_lines": 3,
  "seed": 9,
  "bad_row_fraction": 0.25,
  "bad": {
    "wrong_column_count": {"count": 0, "lines": []},
    "non_numeric_id": {"count": 0, "lines": []},
    "bad_timestamp": {"count": 0, "lines": []},
    "bad_price": {"count": 2, "lines": [3, 7]},
    "duplicate_event_id": {"count": 0, "lines": []},
    "invalid_utf8": {"count": 0, "lines": []},
    "unterminated_quote": {"count": 1, "lines": [11]}
  }
}
)");
}

TEST(EventgenPartsTest, FileSinkPublishesWithoutReplacing) {
    TempDir dir;
    const std::string target = dir.path() + "/out.csv";
    {
        FileSink sink(dir.path(), "user_events", ".csv", 1 << 20);
        sink.buffer().append("first\n");
        sink.finish();
        EXPECT_TRUE(sink.publish_as(target));
    }
    {
        FileSink sink(dir.path(), "user_events", ".csv", 1 << 20);
        sink.buffer().append("second\n");
        sink.finish();
        EXPECT_FALSE(sink.publish_as(target));
    }
    {
        FileSink abandoned(dir.path(), "user_events", ".csv", 4);
        abandoned.buffer().append("written in small chunks\n");
        abandoned.write_if_full();
    }
    EXPECT_EQ(read_file(target), "first\n");
    // The losing and the abandoned temporary files are gone.
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(EventgenPartsTest, GeneratorWritesRequestedEventsAndStopsOnRequest) {
    TempDir dir;
    GeneratorOptions options;
    options.out_dir = dir.path() + "/created";
    options.events_per_file = 100;
    options.seed = 6;
    EventFileGenerator generator(options);
    StopFlag stop{false};
    const auto written = generator.write_file(stop);
    ASSERT_TRUE(written);
    EXPECT_EQ(written->events, 100u);
    EXPECT_EQ(written->manifest_path, "");
    const std::string content = read_file(written->path);
    EXPECT_EQ(written->bytes, content.size());
    EXPECT_EQ(std::count(content.begin(), content.end(), '\n'), 101);

    stop = true;
    EXPECT_FALSE(generator.write_file(stop));
    EXPECT_EQ(std::distance(fs::directory_iterator(options.out_dir), fs::directory_iterator()), 1);
}

TEST(EventgenPartsTest, DdlQuotesNamesThatNeedIt) {
    const auto first_line = [](const std::string &ddl) { return ddl.substr(0, ddl.find('\n')); };
    EXPECT_EQ(first_line(create_table_ddl("user_events")), "CREATE TABLE user_events (");
    EXPECT_EQ(first_line(create_table_ddl("Events")), "CREATE TABLE \"Events\" (");
    EXPECT_EQ(first_line(create_table_ddl("s.t")), "CREATE TABLE s.t (");
    EXPECT_EQ(first_line(create_table_ddl("my \"table\"")), "CREATE TABLE \"my \"\"table\"\"\" (");
}

}  // namespace
}  // namespace eventgen
