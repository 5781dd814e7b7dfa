#include "core/discovery/directory_watcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace pg_ingest {

DirectoryWatcher::DirectoryWatcher(const std::string &dir) {
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) {
        error_ = std::string("inotify_init1: ") + std::strerror(errno);
        return;
    }
    constexpr uint32_t kMask = IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO |
                               IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
    if (inotify_add_watch(fd_, dir.c_str(), kMask) < 0) {
        error_ = "inotify_add_watch " + dir + ": " + std::strerror(errno);
        close(fd_);
        fd_ = -1;
    }
}

DirectoryWatcher::~DirectoryWatcher() {
    if (fd_ >= 0) close(fd_);
}

DirectoryWatcher::Events DirectoryWatcher::drain() {
    Events events;
    if (fd_ < 0) return events;
    // Events in order, an earlier one for the same name being superseded by a later one.
    struct NameEvent {
        std::string name;
        bool complete;
        bool superseded;
    };
    std::vector<NameEvent> history;
    std::unordered_map<std::string, size_t> latest;
    alignas(inotify_event) char buffer[64 * 1024];
    for (;;) {
        const ssize_t got = read(fd_, buffer, sizeof buffer);
        if (got < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            throw std::system_error(errno, std::generic_category(), "read inotify events");
        }
        for (ssize_t position = 0; position < got;) {
            const auto *event = reinterpret_cast<const inotify_event *>(buffer + position);
            position += sizeof(inotify_event) + event->len;
            if (event->mask & IN_Q_OVERFLOW) events.overflow = true;
            // IN_IGNORED and IN_UNMOUNT come unasked when the watch ends.
            if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)) {
                events.directory_gone = true;
            }
            if (event->len == 0 ||
                !(event->mask & (IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO))) {
                continue;
            }
            std::string name(event->name);  // NUL-padded to event->len
            if (event->mask & IN_CREATE) events.created.push_back(name);
            const auto [found, inserted] = latest.try_emplace(name, history.size());
            if (!inserted) {
                history[found->second].superseded = true;
                found->second = history.size();
            }
            const bool complete = event->mask & (IN_CLOSE_WRITE | IN_MOVED_TO);
            history.push_back(NameEvent{std::move(name), complete, false});
        }
    }
    for (NameEvent &event : history) {
        if (event.superseded) continue;
        (event.complete ? events.names : events.modified).push_back(std::move(event.name));
    }
    return events;
}

}  // namespace pg_ingest
