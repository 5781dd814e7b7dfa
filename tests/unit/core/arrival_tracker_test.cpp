#include "core/discovery/arrival_tracker.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "temp_dir.hpp"

namespace pg_ingest {
namespace {

using test_support::write_file;

int64_t now_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

TEST(ArrivalTrackerTest, FileKnownFromTheCatalogAtMicrosecondPrecisionIsNotOfferedAgain) {
    test_support::TempDir dir;
    write_file(dir / "a.csv", "id\n1\n");
    write_file(dir / "b.csv", "id\n2\n");
    // A modification time with nanoseconds below the microsecond.
    struct timespec times[2] = {{1700000000, 123456789}, {1700000000, 123456789}};
    ASSERT_EQ(utimensat(AT_FDCWD, (dir / "a.csv").c_str(), times, 0), 0);
    ArrivalTracker tracker(dir.path(), "*.csv", 0, 0);
    std::optional<FileIdentity> a = stat_file(dir.path(), "a.csv");
    ASSERT_TRUE(a);
    // As read back from ingest.files: a timestamptz keeps microseconds.
    FileIdentity from_catalog = *a;
    from_catalog.mtime_ns = a->mtime_ns / 1000 * 1000;
    tracker.remember(from_catalog);

    std::vector<FileIdentity> ready = tracker.collect(true, now_ns() + 1000000000);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].name, "b.csv");
}

// A rescan does not lstat known files (inotify announces changes to them), yet notices new ones.
TEST(ArrivalTrackerTest, KnownNameWithOtherContentIsOffered) {
    test_support::TempDir dir;
    write_file(dir / "a.csv", "id\n1\n");
    ArrivalTracker tracker(dir.path(), "*.csv", 0, 0);
    tracker.remember(*stat_file(dir.path(), "a.csv"));
    EXPECT_TRUE(tracker.collect(true, now_ns() + 1000000000).empty());
    write_file(dir / "a.csv", "id\n1\n2\n");
    tracker.drain_events();  // the rewrite is announced: close after writing
    std::vector<FileIdentity> ready = tracker.collect(true, now_ns() + 1000000000);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].size, 7u);
}

// A file whose version was being loaded when it was seen changed is not remembered: it is offered
// again when asked, for the catalog to judge once its load is over.
TEST(ArrivalTrackerTest, FileToLookAtAgainIsOfferedAgainAtThatTime) {
    test_support::TempDir dir;
    write_file(dir / "a.csv", "id\n1\n");
    ArrivalTracker tracker(dir.path(), "*.csv", 0, 0);
    tracker.remember(*stat_file(dir.path(), "a.csv"));
    write_file(dir / "a.csv", "id\n1\n2\n");
    tracker.drain_events();
    int64_t now = now_ns() + 1000000000;
    std::vector<FileIdentity> ready = tracker.collect(false, now);
    ASSERT_EQ(ready.size(), 1u);
    tracker.look_again("a.csv", now + 500000000);
    EXPECT_TRUE(tracker.collect(false, now).empty());
    EXPECT_EQ(tracker.next_check_ms(now), 500);
    ready = tracker.collect(false, now + 500000000);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].size, 7u);
}

// A rescan that lists a file before its rename event is read must not make it wait for the quiet
// time once the event says it is complete.
TEST(ArrivalTrackerTest, RenameEventAfterARescanMakesTheFileReadyAtOnce) {
    test_support::TempDir dir;
    ArrivalTracker tracker(dir.path(), "*.csv", 0, 10000);
    write_file(dir / ".a.csv.tmp", "id\n1\n");
    ASSERT_EQ(rename((dir / ".a.csv.tmp").c_str(), (dir / "a.csv").c_str()), 0);
    int64_t now = now_ns();
    EXPECT_TRUE(tracker.collect(true, now).empty());  // found by the scan alone: quiet time
    tracker.drain_events();
    std::vector<FileIdentity> ready = tracker.collect(false, now);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].name, "a.csv");
}

// A file the catalog knows (the same inode) is judged by its bytes as soon as it is written to:
// a writer that keeps it open (a log) sends IN_MODIFY and no IN_CLOSE_WRITE.
TEST(ArrivalTrackerTest, KnownFileWrittenToWithoutACloseIsOfferedAtOnce) {
    test_support::TempDir dir;
    write_file(dir / "a.csv", "id\n1\n");
    ArrivalTracker tracker(dir.path(), "*.csv", 0, 10000);
    tracker.remember(*stat_file(dir.path(), "a.csv"));
    int fd = open((dir / "a.csv").c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, "2\n", 2), 2);
    tracker.drain_events();
    std::vector<FileIdentity> ready = tracker.collect(false, now_ns());
    close(fd);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].size, 7u);
}

// A name created anew holds a new file, even when it reuses the known file's inode: it waits to
// be complete (closed after writing), as any new file does.
TEST(ArrivalTrackerTest, NameCreatedAnewWaitsUntilItIsComplete) {
    test_support::TempDir dir;
    write_file(dir / "a.csv", "id\n1\n");
    ArrivalTracker tracker(dir.path(), "*.csv", 0, 10000);
    tracker.remember(*stat_file(dir.path(), "a.csv"));
    ASSERT_EQ(unlink((dir / "a.csv").c_str()), 0);
    int fd = open((dir / "a.csv").c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, "id\n3\n", 5), 5);
    tracker.drain_events();
    int64_t now = now_ns();
    EXPECT_TRUE(tracker.collect(false, now).empty());
    EXPECT_TRUE(tracker.collect(true, now).empty());
    close(fd);
    tracker.drain_events();
    std::vector<FileIdentity> ready = tracker.collect(false, now);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].size, 5u);
}

}  // namespace
}  // namespace pg_ingest
