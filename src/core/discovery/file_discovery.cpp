#include "core/discovery/file_discovery.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

namespace pg_ingest {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

FileIdentity identity_of(std::string name, const struct stat &status) {
    return FileIdentity{
        std::move(name), static_cast<uint64_t>(status.st_size),
        static_cast<int64_t>(status.st_mtim.tv_sec) * 1000000000 + status.st_mtim.tv_nsec,
        static_cast<uint64_t>(status.st_ino)};
}

const char *file_type_name(mode_t mode) {
    if (S_ISLNK(mode)) return "symbolic link";
    if (S_ISDIR(mode)) return "directory";
    if (S_ISFIFO(mode)) return "fifo";
    if (S_ISSOCK(mode)) return "socket";
    if (S_ISCHR(mode)) return "character device";
    if (S_ISBLK(mode)) return "block device";
    return "unknown file type";
}

}  // namespace

bool is_candidate_name(std::string_view name, const std::string &glob) {
    if (name.empty() || name.front() == '.' || ends_with(name, ".tmp") ||
        ends_with(name, ".part") || name.find_first_of(std::string_view("/\0", 2)) != name.npos) {
        return false;
    }
    return fnmatch(glob.c_str(), std::string(name).c_str(), FNM_PERIOD) == 0;
}

std::vector<ScanEntry> scan_directory(const std::string &dir, const std::string &glob,
                                      const KnownFileTest &known_file) {
    std::unique_ptr<DIR, int (*)(DIR *)> stream(opendir(dir.c_str()), closedir);
    if (!stream) {
        throw std::system_error(errno, std::generic_category(), "cannot open directory " + dir);
    }
    std::vector<ScanEntry> entries;
    for (;;) {
        errno = 0;
        const dirent *entry = readdir(stream.get());
        if (entry == nullptr) {
            if (errno != 0) {
                throw std::system_error(errno, std::generic_category(),
                                        "cannot read directory " + dir);
            }
            break;
        }
        if (!is_candidate_name(entry->d_name, glob)) continue;
        if (known_file && entry->d_type == DT_REG && known_file(entry->d_name, entry->d_ino)) {
            ScanEntry unexamined{FileIdentity{entry->d_name, 0, 0, entry->d_ino}, true, {}};
            unexamined.unexamined = true;
            entries.push_back(std::move(unexamined));
            continue;
        }
        struct stat status;
        if (fstatat(dirfd(stream.get()), entry->d_name, &status, AT_SYMLINK_NOFOLLOW) != 0) {
            // Removed since readdir: nothing to report.
            if (errno == ENOENT) continue;
            entries.push_back(ScanEntry{FileIdentity{entry->d_name, 0, 0, entry->d_ino}, false,
                                        std::string("cannot stat: ") + std::strerror(errno)});
            continue;
        }
        const bool regular = S_ISREG(status.st_mode);
        entries.push_back(ScanEntry{
            identity_of(entry->d_name, status), regular,
            regular ? std::string()
                    : std::string("not a regular file: ") + file_type_name(status.st_mode)});
    }
    std::sort(entries.begin(), entries.end(), [](const ScanEntry &a, const ScanEntry &b) {
        return a.identity.name < b.identity.name;
    });
    return entries;
}

std::optional<FileIdentity> stat_file(const std::string &dir, const std::string &name) {
    struct stat status;
    if (lstat((dir + "/" + name).c_str(), &status) != 0 || !S_ISREG(status.st_mode)) {
        return std::nullopt;
    }
    return identity_of(name, status);
}

}  // namespace pg_ingest
