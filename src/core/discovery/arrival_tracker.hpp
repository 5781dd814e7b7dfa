// Decides which files in a watched directory are ready to be taken: complete, old enough, and
// not yet known. Pure C++ (no PostgreSQL), fed by inotify and by periodic rescans.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/discovery/directory_watcher.hpp"
#include "core/discovery/file_discovery.hpp"
#include "core/discovery/ready_marker.hpp"

namespace pg_ingest {

class ArrivalTracker {
  public:
    // A file found only by a rescan (not announced by inotify as closed or renamed in) must be
    // unmodified for quiet_ms: it may still be open for writing. With a ready_marker suffix, a
    // file is taken only once its marker exists, which also says it is complete (no quiet time).
    ArrivalTracker(std::string directory, std::string glob, int64_t min_age_ms, int64_t quiet_ms,
                   std::string ready_marker = std::string());

    // The file version is in the catalog: it is never offered again.
    void remember(const FileIdentity &identity);
    // The file is not settled yet (its version is being loaded): it is offered again at `at_ns`
    // unless the catalog's version is remembered before.
    void look_again(const std::string &name, int64_t at_ns);
    // inotify descriptor to wait on, or -1 when the file system has none (rescans then do).
    int watch_fd() const { return watcher_.fd(); }

    // Reads pending inotify events; true when a full rescan is due (queue overflow).
    bool drain_events();
    // Files ready to be registered, in name order. A full scan lists the directory; otherwise
    // only names announced by inotify or still waiting to age are looked at.
    std::vector<FileIdentity> collect(bool full_scan, int64_t now_ns);
    // Milliseconds until a waiting file may become ready; -1 when none waits.
    int64_t next_check_ms(int64_t now_ns) const;
    // Pattern matches that are not regular files, each reported once.
    std::vector<ScanEntry> take_skipped();

  private:
    void consider(const FileIdentity &identity, int64_t now_ns, std::vector<FileIdentity> &ready);

    std::string directory_;
    std::string glob_;
    ReadyMarker marker_;
    int64_t min_age_ns_;
    int64_t quiet_ns_;
    DirectoryWatcher watcher_;
    std::unordered_map<std::string, FileIdentity> known_;
    std::set<std::string> announced_;         // closed after writing or renamed in: complete
    std::set<std::string> writing_;           // created or modified, not closed yet
    std::set<std::string> created_;           // created since the version known was remembered
    std::map<std::string, int64_t> waiting_;  // name -> when it may be ready
    bool scanned_once_ = false;               // a full scan listed the directory
    std::set<std::string> skipped_reported_;
    std::vector<ScanEntry> skipped_;
};

}  // namespace pg_ingest
