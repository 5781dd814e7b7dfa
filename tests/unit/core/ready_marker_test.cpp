#include "temp_dir.hpp"
#include "core/discovery/arrival_tracker.hpp"
#include "core/discovery/ready_marker.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace pg_ingest {
namespace {

using test_support::TempDir;
using test_support::write_file;

std::vector<std::string> names_of(const std::vector<FileIdentity> &files) {
    std::vector<std::string> names;
    for (const FileIdentity &file : files) names.push_back(file.name);
    return names;
}

// Far enough after any file written by the test for min_age and quiet times to be over.
constexpr int64_t kLater = int64_t{4102444800} * 1000000000;  // 2100-01-01

TEST(ReadyMarkerTest, RecognisesMarkersAndTheirDataFiles) {
    ReadyMarker marker(".done");
    EXPECT_TRUE(marker.enabled());
    EXPECT_TRUE(marker.is_marker("a.csv.done"));
    EXPECT_FALSE(marker.is_marker(".done"));  // nothing before the suffix
    EXPECT_FALSE(marker.is_marker("a.csv"));
    EXPECT_FALSE(marker.is_marker("a.csv.done.tmp"));
    EXPECT_EQ(marker.data_name_of("a.csv.done"), std::optional<std::string>("a.csv"));
    EXPECT_EQ(marker.data_name_of("a.csv"), std::nullopt);
    EXPECT_EQ(marker.marker_of("a.csv"), "a.csv.done");
}

TEST(ReadyMarkerTest, WithoutSuffixNothingIsAMarkerAndEveryFileIsReady) {
    TempDir dir;
    ReadyMarker marker("");
    EXPECT_FALSE(marker.enabled());
    EXPECT_FALSE(marker.is_marker("a.csv.done"));
    EXPECT_EQ(marker.data_name_of("a.csv.done"), std::nullopt);
    EXPECT_TRUE(marker.data_is_ready(dir.path(), "a.csv"));
}

TEST(ReadyMarkerTest, DataIsReadyOnceItsMarkerIsARegularFile) {
    TempDir dir;
    ReadyMarker marker("_SUCCESS");
    write_file(dir / "a.csv", "id\n1\n");
    EXPECT_FALSE(marker.data_is_ready(dir.path(), "a.csv"));
    ASSERT_EQ(mkdir((dir / "a.csv_SUCCESS").c_str(), 0755), 0);
    EXPECT_FALSE(marker.data_is_ready(dir.path(), "a.csv"));
    ASSERT_EQ(rmdir((dir / "a.csv_SUCCESS").c_str()), 0);
    ASSERT_EQ(symlink((dir / "a.csv").c_str(), (dir / "a.csv_SUCCESS").c_str()), 0);
    EXPECT_FALSE(marker.data_is_ready(dir.path(), "a.csv"));
    ASSERT_EQ(unlink((dir / "a.csv_SUCCESS").c_str()), 0);
    write_file(dir / "a.csv_SUCCESS", "");
    EXPECT_TRUE(marker.data_is_ready(dir.path(), "a.csv"));
}

TEST(ArrivalTrackerMarkerTest, FullScanTakesOnlyMarkedFilesAndNeverMarkers) {
    TempDir dir;
    write_file(dir / "a.csv", "id\n1\n");
    write_file(dir / "b.csv", "id\n2\n");
    write_file(dir / "b.csv.done", "");
    ArrivalTracker tracker(dir.path(), "*", 0, 1000, ".done");
    EXPECT_EQ(names_of(tracker.collect(true, kLater)), std::vector<std::string>{"b.csv"});
    EXPECT_EQ(tracker.next_check_ms(kLater), -1);  // a.csv waits for its marker, not a timer

    write_file(dir / "a.csv.done", "");
    EXPECT_EQ(names_of(tracker.collect(true, kLater)),
              (std::vector<std::string>{"a.csv", "b.csv"}));
}

TEST(ArrivalTrackerMarkerTest, MarkedFileNeedsNoQuietTime) {
    TempDir dir;
    write_file(dir / "a.csv", "id\n1\n");
    write_file(dir / "a.csv.done", "");
    const FileIdentity identity = *stat_file(dir.path(), "a.csv");
    ArrivalTracker unmarked(dir.path(), "*.csv", 0, 1000);
    EXPECT_TRUE(unmarked.collect(true, identity.mtime_ns).empty());
    ArrivalTracker marked(dir.path(), "*.csv", 0, 1000, ".done");
    EXPECT_EQ(names_of(marked.collect(true, identity.mtime_ns)), std::vector<std::string>{"a.csv"});
}

TEST(ArrivalTrackerMarkerTest, MarkerArrivalAnnouncedByInotifyBringsItsFile) {
    TempDir dir;
    ArrivalTracker tracker(dir.path(), "*.csv", 0, 1000, ".done");
    ASSERT_GE(tracker.watch_fd(), 0);
    write_file(dir / "a.csv", "id\n1\n");
    EXPECT_FALSE(tracker.drain_events());
    EXPECT_TRUE(tracker.collect(false, kLater).empty());
    EXPECT_EQ(tracker.next_check_ms(kLater), -1);

    write_file(dir / "a.csv.done", "");
    EXPECT_FALSE(tracker.drain_events());
    EXPECT_EQ(tracker.next_check_ms(kLater), 0);
    EXPECT_EQ(names_of(tracker.collect(false, kLater)), std::vector<std::string>{"a.csv"});
}

}  // namespace
}  // namespace pg_ingest
