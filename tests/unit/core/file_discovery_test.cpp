#include "temp_dir.hpp"
#include "core/discovery/directory_watcher.hpp"
#include "core/discovery/file_discovery.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

namespace pg_ingest {
namespace {

using test_support::TempDir;
using test_support::write_file;

std::vector<std::string> names_of(const std::vector<ScanEntry> &entries) {
    std::vector<std::string> names;
    for (const ScanEntry &entry : entries) names.push_back(entry.identity.name);
    return names;
}

TEST(IsCandidateNameTest, MatchesGlob) {
    EXPECT_TRUE(is_candidate_name("a.csv", "*.csv"));
    EXPECT_FALSE(is_candidate_name("a.txt", "*.csv"));
    EXPECT_FALSE(is_candidate_name("a.csv.gz", "*.csv"));
    EXPECT_TRUE(is_candidate_name("user_events_20240101T000000.123.csv", "user_events_*.csv"));
    EXPECT_FALSE(is_candidate_name("other_events_1.csv", "user_events_*.csv"));
    EXPECT_TRUE(is_candidate_name("x.csv.gz", "*.csv.gz"));
    EXPECT_FALSE(is_candidate_name("x.csv", "*.csv.gz"));
}

TEST(IsCandidateNameTest, ExcludesHiddenTemporaryAndPathNames) {
    EXPECT_FALSE(is_candidate_name(".a.csv", "*.csv"));
    EXPECT_FALSE(is_candidate_name(".a.csv", ".*"));
    EXPECT_FALSE(is_candidate_name("a.tmp", "*"));
    EXPECT_FALSE(is_candidate_name("a.csv.tmp", "*.csv*"));
    EXPECT_FALSE(is_candidate_name("a.part", "*.part"));
    EXPECT_FALSE(is_candidate_name("dir/a.csv", "*"));
    EXPECT_FALSE(is_candidate_name("dir/a.csv", "dir/*"));
    EXPECT_FALSE(is_candidate_name(std::string_view("a\0.csv", 6), "*"));
    EXPECT_FALSE(is_candidate_name("", "*"));
    EXPECT_TRUE(is_candidate_name("a.tmp.csv", "*"));
}

TEST(ScanDirectoryTest, ListsCandidatesSortedAndFlagsNonRegularFiles) {
    TempDir dir;
    write_file(dir / "b.csv", "bb");
    write_file(dir / "a.csv", "a,b\n");
    write_file(dir / "B.csv", "");
    write_file(dir / ".hidden.csv", "x");
    write_file(dir / "c.csv.tmp", "x");
    write_file(dir / "notes.txt", "x");
    ASSERT_EQ(mkfifo((dir / "f.csv").c_str(), 0644), 0);
    ASSERT_EQ(symlink("a.csv", (dir / "l.csv").c_str()), 0);
    ASSERT_EQ(mkdir((dir / "d.csv").c_str(), 0755), 0);

    const std::vector<ScanEntry> entries = scan_directory(dir.path(), "*.csv");
    EXPECT_EQ(names_of(entries),
              (std::vector<std::string>{"B.csv", "a.csv", "b.csv", "d.csv", "f.csv", "l.csv"}));
    ASSERT_EQ(entries.size(), 6u);

    struct stat status;
    ASSERT_EQ(stat((dir / "a.csv").c_str(), &status), 0);
    const ScanEntry &a = entries[1];
    EXPECT_TRUE(a.regular);
    EXPECT_EQ(a.note, "");
    EXPECT_EQ(a.identity.size, 4u);
    EXPECT_EQ(a.identity.inode, status.st_ino);
    EXPECT_EQ(a.identity.mtime_ns, status.st_mtim.tv_sec * 1000000000LL + status.st_mtim.tv_nsec);
    EXPECT_TRUE(entries[0].regular);
    EXPECT_EQ(entries[0].identity.size, 0u);
    EXPECT_EQ(entries[2].identity.size, 2u);

    EXPECT_FALSE(entries[3].regular);
    EXPECT_EQ(entries[3].note, "not a regular file: directory");
    EXPECT_FALSE(entries[4].regular);
    EXPECT_EQ(entries[4].note, "not a regular file: fifo");
    EXPECT_FALSE(entries[5].regular);
    EXPECT_EQ(entries[5].note, "not a regular file: symbolic link");
}

TEST(ScanDirectoryTest, EmptyDirectoryAndOtherGlob) {
    TempDir dir;
    EXPECT_TRUE(scan_directory(dir.path(), "*.csv").empty());
    write_file(dir / "user_events_2.csv", "");
    write_file(dir / "user_events_1.csv", "");
    write_file(dir / "admin_events_1.csv", "");
    EXPECT_EQ(names_of(scan_directory(dir.path(), "user_events_*.csv")),
              (std::vector<std::string>{"user_events_1.csv", "user_events_2.csv"}));
}

TEST(ScanDirectoryTest, MissingDirectoryThrowsNamingIt) {
    TempDir dir;
    const std::string missing = dir / "missing";
    try {
        scan_directory(missing, "*.csv");
        FAIL() << "no exception";
    } catch (const std::system_error &error) {
        EXPECT_EQ(error.code().value(), ENOENT);
        EXPECT_NE(std::string(error.what()).find(missing), std::string::npos) << error.what();
    }
}

TEST(StatFileTest, OnlyRegularFiles) {
    TempDir dir;
    write_file(dir / "a.csv", "12345");
    ASSERT_EQ(mkfifo((dir / "f.csv").c_str(), 0644), 0);
    ASSERT_EQ(symlink("a.csv", (dir / "l.csv").c_str()), 0);

    const std::optional<FileIdentity> a = stat_file(dir.path(), "a.csv");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->name, "a.csv");
    EXPECT_EQ(a->size, 5u);
    const std::vector<ScanEntry> scanned = scan_directory(dir.path(), "a.csv");
    ASSERT_EQ(scanned.size(), 1u);
    EXPECT_EQ(a->inode, scanned[0].identity.inode);
    EXPECT_EQ(a->mtime_ns, scanned[0].identity.mtime_ns);

    EXPECT_FALSE(stat_file(dir.path(), "f.csv").has_value());
    EXPECT_FALSE(stat_file(dir.path(), "l.csv").has_value());
    EXPECT_FALSE(stat_file(dir.path(), "missing.csv").has_value());
}

class DirectoryWatcherTest : public ::testing::Test {
  protected:
    void SetUp() override {
        watcher_ = std::make_unique<DirectoryWatcher>(dir_.path());
        ASSERT_GE(watcher_->fd(), 0) << "inotify unavailable: " << watcher_->error();
    }

    // Events are queued by the system call that causes them; the poll only guards against that
    // ever being asynchronous.
    DirectoryWatcher::Events drain_pending() {
        pollfd descriptor{watcher_->fd(), POLLIN, 0};
        poll(&descriptor, 1, 100);
        return watcher_->drain();
    }

    TempDir dir_;
    TempDir elsewhere_;
    std::unique_ptr<DirectoryWatcher> watcher_;
};

TEST_F(DirectoryWatcherTest, ReportsFileClosedAfterWriting) {
    write_file(dir_ / "a.csv", "a\n");
    const DirectoryWatcher::Events events = drain_pending();
    EXPECT_EQ(events.names, std::vector<std::string>{"a.csv"});
    EXPECT_TRUE(events.modified.empty());
    EXPECT_FALSE(events.overflow);
    EXPECT_FALSE(events.directory_gone);
    const DirectoryWatcher::Events nothing_more = watcher_->drain();
    EXPECT_TRUE(nothing_more.names.empty());
    EXPECT_TRUE(nothing_more.modified.empty());
}

TEST_F(DirectoryWatcherTest, ReportsFileMovedIn) {
    write_file(elsewhere_ / "b.csv", "b\n");
    ASSERT_EQ(rename((elsewhere_ / "b.csv").c_str(), (dir_ / "b.csv").c_str()), 0);
    const DirectoryWatcher::Events events = drain_pending();
    EXPECT_EQ(events.names, std::vector<std::string>{"b.csv"});
    EXPECT_TRUE(events.modified.empty());
}

TEST_F(DirectoryWatcherTest, FileStillOpenForWritingIsOnlyModified) {
    const int fd = open((dir_ / "c.csv").c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, "partial", 7), 7);
    DirectoryWatcher::Events events = drain_pending();
    EXPECT_TRUE(events.names.empty());
    EXPECT_EQ(events.modified, std::vector<std::string>{"c.csv"});
    ASSERT_EQ(close(fd), 0);
    events = drain_pending();
    EXPECT_EQ(events.names, std::vector<std::string>{"c.csv"});
    EXPECT_TRUE(events.modified.empty());
}

TEST_F(DirectoryWatcherTest, LatestEventPerNameWins) {
    write_file(dir_ / "a.csv", "1\n");
    write_file(dir_ / "b.csv", "1\n");
    const int fd = open((dir_ / "a.csv").c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, "2\n", 2), 2);
    write_file(dir_ / "b.csv", "2\n");
    const DirectoryWatcher::Events events = drain_pending();
    EXPECT_EQ(events.names, std::vector<std::string>{"b.csv"});
    EXPECT_EQ(events.modified, std::vector<std::string>{"a.csv"});
    ASSERT_EQ(close(fd), 0);
}

TEST_F(DirectoryWatcherTest, TemporaryFileRenamedToFinalName) {
    write_file(dir_ / "d.csv.tmp", "d\n");
    ASSERT_EQ(rename((dir_ / "d.csv.tmp").c_str(), (dir_ / "d.csv").c_str()), 0);
    const DirectoryWatcher::Events events = drain_pending();
    EXPECT_EQ(events.names, (std::vector<std::string>{"d.csv.tmp", "d.csv"}));
    EXPECT_TRUE(events.modified.empty());
    std::vector<std::string> candidates;
    std::copy_if(events.names.begin(), events.names.end(), std::back_inserter(candidates),
                 [](const std::string &name) { return is_candidate_name(name, "*.csv"); });
    EXPECT_EQ(candidates, std::vector<std::string>{"d.csv"});
}

TEST_F(DirectoryWatcherTest, ReportsOverflow) {
    std::ifstream limit_file("/proc/sys/fs/inotify/max_queued_events");
    size_t max_queued_events = 0;
    ASSERT_TRUE(limit_file >> max_queued_events);
    ASSERT_LE(max_queued_events, 100000u) << "inotify queue limit too large to fill quickly";
    // Each file queues IN_CREATE and IN_CLOSE_WRITE.
    for (size_t i = 0; i <= max_queued_events / 2; ++i) {
        const int fd = open((dir_ / std::to_string(i)).c_str(), O_WRONLY | O_CREAT, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(close(fd), 0);
    }
    EXPECT_TRUE(drain_pending().overflow);
}

TEST_F(DirectoryWatcherTest, ReportsDirectoryGone) {
    std::filesystem::remove_all(dir_.path());
    const DirectoryWatcher::Events events = drain_pending();
    EXPECT_TRUE(events.directory_gone);
    EXPECT_TRUE(events.names.empty());
}

TEST(DirectoryWatcherFallbackTest, MissingDirectoryGivesNoDescriptor) {
    TempDir dir;
    DirectoryWatcher watcher(dir / "missing");
    EXPECT_EQ(watcher.fd(), -1);
    EXPECT_NE(watcher.error().find("missing"), std::string::npos) << watcher.error();
    const DirectoryWatcher::Events events = watcher.drain();
    EXPECT_TRUE(events.names.empty());
    EXPECT_FALSE(events.overflow);
    EXPECT_FALSE(events.directory_gone);
}

}  // namespace
}  // namespace pg_ingest
