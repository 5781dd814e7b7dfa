#include "core/discovery/arrival_tracker.hpp"

#include <algorithm>
#include <unordered_set>

namespace pg_ingest {

namespace {

// The catalog keeps mtimes in microseconds (timestamptz): compare at that precision, or every
// known file would look new to the first rescan after a restart.
bool same_version(const FileIdentity &a, const FileIdentity &b) {
    return a.size == b.size && a.mtime_ns / 1000 == b.mtime_ns / 1000 && a.inode == b.inode;
}

}  // namespace

ArrivalTracker::ArrivalTracker(std::string directory, std::string glob, int64_t min_age_ms,
                               int64_t quiet_ms, std::string ready_marker)
    : directory_(std::move(directory)),
      glob_(std::move(glob)),
      marker_(std::move(ready_marker)),
      min_age_ns_(min_age_ms * 1000000),
      quiet_ns_(quiet_ms * 1000000),
      watcher_(directory_) {}

void ArrivalTracker::remember(const FileIdentity &identity) {
    known_[identity.name] = identity;
    announced_.erase(identity.name);
    created_.erase(identity.name);
    waiting_.erase(identity.name);
}

void ArrivalTracker::look_again(const std::string &name, int64_t at_ns) {
    waiting_[name] = at_ns;
}

bool ArrivalTracker::drain_events() {
    if (watcher_.fd() < 0) return false;
    DirectoryWatcher::Events events = watcher_.drain();
    // A name created anew holds a new file, even on a reused inode: it waits to be complete.
    for (const std::string &name : events.created) created_.insert(name);
    for (const std::string &name : events.modified) {
        if (marker_.is_marker(name) || !is_candidate_name(name, glob_)) continue;
        writing_.insert(name);
        announced_.erase(name);
        // A known file written to (appended, truncated by path) is judged by its bytes at once,
        // whether or not its writer closes it.
        if (known_.count(name) && !created_.count(name)) waiting_[name] = 0;
    }
    for (const std::string &name : events.names) {
        if (std::optional<std::string> data = marker_.data_name_of(name)) {
            // A marker arrived: its data file is looked at again.
            if (is_candidate_name(*data, glob_)) waiting_[*data] = 0;
            continue;
        }
        if (!is_candidate_name(name, glob_)) continue;
        writing_.erase(name);
        announced_.insert(name);
        waiting_[name] = 0;  // even if a rescan saw it first and set it waiting
    }
    return events.overflow || events.directory_gone;
}

void ArrivalTracker::consider(const FileIdentity &identity, int64_t now_ns,
                              std::vector<FileIdentity> &ready) {
    auto known = known_.find(identity.name);
    if (known != known_.end() && same_version(known->second, identity)) {
        waiting_.erase(identity.name);
        return;
    }
    // A known file (the same inode) is judged by its bytes, complete or not: only a new file
    // waits until it is complete.
    bool known_file = known != known_.end() && known->second.inode == identity.inode &&
                      !created_.count(identity.name);
    if (writing_.count(identity.name) && !known_file) return;  // IN_CLOSE_WRITE announces it
    if (!marker_.data_is_ready(directory_, identity.name)) {
        // Its marker's arrival (or a rescan) brings it back.
        waiting_.erase(identity.name);
        return;
    }
    bool complete = announced_.count(identity.name) || marker_.enabled() || known_file;
    int64_t age = now_ns - identity.mtime_ns;
    int64_t needed = std::max(min_age_ns_, complete ? 0 : quiet_ns_);
    if (age >= needed) {
        ready.push_back(identity);
        waiting_.erase(identity.name);
    } else {
        waiting_[identity.name] = identity.mtime_ns + needed;
    }
}

std::vector<FileIdentity> ArrivalTracker::collect(bool full_scan, int64_t now_ns) {
    std::vector<FileIdentity> ready;
    if (full_scan) {
        // With inotify, a known file that changes in place is announced, so the rescan (a safety
        // net for missed events) need not lstat the files it already knows.
        KnownFileTest known_file;
        // The first scan examines every file: what changed before the watch began is seen.
        if (watcher_.fd() >= 0 && scanned_once_)
            known_file = [this](const std::string &name, uint64_t inode) {
                auto known = known_.find(name);
                return known != known_.end() && known->second.inode == inode &&
                       !writing_.count(name) && !announced_.count(name);
            };
        std::unordered_set<std::string> present;
        for (ScanEntry &entry : scan_directory(directory_, glob_, known_file)) {
            if (marker_.is_marker(entry.identity.name)) continue;
            present.insert(entry.identity.name);
            if (entry.unexamined) continue;
            if (!entry.regular) {
                if (skipped_reported_.insert(entry.identity.name).second)
                    skipped_.push_back(std::move(entry));
                continue;
            }
            consider(entry.identity, now_ns, ready);
        }
        // Forgetting vanished names keeps memory proportional to the directory, not history.
        for (auto it = known_.begin(); it != known_.end();)
            it = present.count(it->first) ? std::next(it) : known_.erase(it);
        for (auto it = skipped_reported_.begin(); it != skipped_reported_.end();)
            it = present.count(*it) ? std::next(it) : skipped_reported_.erase(it);
        for (auto it = waiting_.begin(); it != waiting_.end();)
            it = present.count(it->first) ? std::next(it) : waiting_.erase(it);
        for (auto it = writing_.begin(); it != writing_.end();)
            it = present.count(*it) ? std::next(it) : writing_.erase(it);
        for (auto it = created_.begin(); it != created_.end();)
            it = present.count(*it) ? std::next(it) : created_.erase(it);
        scanned_once_ = true;
    } else {
        std::vector<std::string> names;
        for (const auto &[name, when] : waiting_)
            if (when <= now_ns) names.push_back(name);
        for (const std::string &name : names) {
            std::optional<FileIdentity> identity = stat_file(directory_, name);
            if (identity)
                consider(*identity, now_ns, ready);
            else
                waiting_.erase(name);
        }
    }
    std::sort(ready.begin(), ready.end(),
              [](const FileIdentity &a, const FileIdentity &b) { return a.name < b.name; });
    return ready;
}

int64_t ArrivalTracker::next_check_ms(int64_t now_ns) const {
    int64_t next = -1;
    for (const auto &[name, when] : waiting_) {
        int64_t ms = std::max<int64_t>(0, (when - now_ns + 999999) / 1000000);
        if (next < 0 || ms < next) next = ms;
    }
    return next;
}

std::vector<ScanEntry> ArrivalTracker::take_skipped() {
    std::vector<ScanEntry> taken;
    taken.swap(skipped_);
    return taken;
}

}  // namespace pg_ingest
