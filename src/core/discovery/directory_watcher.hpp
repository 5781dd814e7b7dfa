// Notification of files completed in a directory, over inotify.
#pragma once

#include <string>
#include <vector>

namespace pg_ingest {

// Watches one directory for files being written, closed after writing or moved into it. Events
// only wake the caller up sooner: the caller still decides from directory scans, and polls when
// fd() is -1.
class DirectoryWatcher {
  public:
    // Never throws for inotify being unavailable (no support, instance limits, directory missing):
    // fd() is then -1 and error() says why.
    explicit DirectoryWatcher(const std::string &dir);
    ~DirectoryWatcher();
    DirectoryWatcher(const DirectoryWatcher &) = delete;
    DirectoryWatcher &operator=(const DirectoryWatcher &) = delete;

    // Non-blocking descriptor that becomes readable when events are pending (for poll or a latch);
    // -1 without inotify.
    int fd() const { return fd_; }
    const std::string &error() const { return error_; }

    // Each name is in at most one list, by its last event, in the order of those last events.
    // Names are unfiltered: temporary, hidden and directory names are included.
    struct Events {
        std::vector<std::string> names;     // last closed after writing, or moved in: complete
        std::vector<std::string> modified;  // last created or written to: still being written
        std::vector<std::string> created;   // created (a new inode), whatever came after
        bool overflow = false;              // events were lost: rescan the directory
        bool directory_gone = false;        // deleted, moved or unmounted: the watch is over
    };
    // Reads all pending events without blocking. Throws std::system_error on a read error.
    Events drain();

  private:
    int fd_ = -1;
    std::string error_;
};

}  // namespace pg_ingest
