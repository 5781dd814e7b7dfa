#include "pg/worker/directory_claim.hpp"

#include "core/discovery/source_overlap.hpp"
#include "pg/support/pg_guard.hpp"

#include <string>

#include <sys/stat.h>

extern "C" {
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "utils/builtins.h"
// get_database_name: declared in commands/dbcommands.h up to 18, in utils/lsyscache.h since 19.
#include "utils/lsyscache.h"
}

namespace pg_ingest {

namespace {

// Overlap texts are copied into this, so that no C++ object outlives cpp_guard.
constexpr size_t kOverlapTextBytes = 2048;

// Whether `path` could be read into `key`.
bool read_key(const char *path, DirectoryKey *key) {
    struct stat status;
    if (stat(path, &status) != 0) return false;
    *key = DirectoryKey{static_cast<uint64_t>(status.st_dev), static_cast<uint64_t>(status.st_ino)};
    return true;
}

void fill_directory(ClaimedDirectory *directory, const char *path) {
    directory->named = path != nullptr;
    if (path == nullptr) return;
    directory->path_fits =
        strlcpy(directory->path, path, sizeof directory->path) < sizeof directory->path;
    if (!directory->path_fits) directory->named = read_key(path, &directory->claimed_key);
}

// The directory's device and inode now; false when it has none (not named, or unreadable).
bool current_key(const ClaimedDirectory &directory, DirectoryKey *key) {
    if (!directory.named) return false;
    if (directory.path_fits) return read_key(directory.path, key);
    *key = directory.claimed_key;
    return true;
}

// The first held claim other than (this database, source_id) that `claim` overlaps, with how
// and the fix. Callers hold the lock.
char *conflict_text(int32 source_id, const DirectoryClaim &claim) {
    SharedState *s = shared();
    for (int i = 0; i < s->slot_count; i++) {
        const WorkerSlot *slot = &s->slots[i];
        if (!slot->in_use || !slot->claim.held) continue;
        if (slot->database_id == MyDatabaseId && slot->source_id == source_id) continue;
        char *text = overlap_text(claim, slot->claim, slot->database_id != MyDatabaseId);
        if (text == nullptr) continue;
        const char *holder = slot->database_id == MyDatabaseId
                                 ? psprintf("source \"%s\"", slot->claim.source_name)
                                 : psprintf("source \"%s\" of database \"%s\"",
                                            slot->claim.source_name, slot->claim.database_name);
        return psprintf(
            "%s; %s is started, and a file is loaded by one source only: stop one of them, or "
            "give them patterns that no file name matches both, or other directories; then run "
            "ingest.start('%s')",
            text, holder, claim.source_name);
    }
    return nullptr;
}

}  // namespace

char *unreadable_directory(const char *directory) {
    struct stat status;
    if (stat(directory, &status) == 0) return nullptr;
    return psprintf("could not read directory \"%s\": %s", directory, strerror(errno));
}

void fill_claim(DirectoryClaim *claim, const char *name, const char *directory, const char *pattern,
                const char *archive_directory, const char *ready_marker) {
    memset(claim, 0, sizeof *claim);
    strlcpy(claim->database_name, get_database_name(MyDatabaseId), sizeof claim->database_name);
    strlcpy(claim->source_name, name, sizeof claim->source_name);
    fill_directory(&claim->directory, directory);
    fill_directory(&claim->archive_directory, archive_directory);
    // A longer pattern is claimed as "*": it may be found to overlap, never missed.
    if (strlen(pattern) < sizeof claim->pattern)
        strlcpy(claim->pattern, pattern, sizeof claim->pattern);
    else
        strlcpy(claim->pattern, "*", sizeof claim->pattern);
    if (ready_marker != nullptr)
        strlcpy(claim->ready_marker, ready_marker, sizeof claim->ready_marker);
}

char *overlap_text(const DirectoryClaim &claim, const DirectoryClaim &other, bool other_database) {
    DirectoryKey keys[2];
    DirectoryKey archives[2];
    if (!current_key(claim.directory, &keys[0]) || !current_key(other.directory, &keys[1]))
        return nullptr;
    bool has_archive[2] = {current_key(claim.archive_directory, &archives[0]),
                           current_key(other.archive_directory, &archives[1])};
    char text[kOverlapTextBytes];
    bool overlaps = cpp_guard([&] {
        SourceFiles files{keys[0], std::nullopt, claim.pattern, claim.ready_marker};
        SourceFiles other_files{keys[1], std::nullopt, other.pattern, other.ready_marker};
        if (has_archive[0]) files.archive_directory = archives[0];
        if (has_archive[1]) other_files.archive_directory = archives[1];
        std::optional<Overlap> overlap = find_overlap(files, other_files);
        if (!overlap) return false;
        std::string description = describe_overlap(
            claim.source_name, other.source_name, other_database ? other.database_name : "",
            claim.directory.path, claim.archive_directory.path, *overlap);
        strlcpy(text, description.c_str(), sizeof text);
        return true;
    });
    return overlaps ? pstrdup(text) : nullptr;
}

char *hold_claim(WorkerSlot *own, const DirectoryClaim &claim) {
    SharedState *s = shared();
    LWLockAcquire(s->lock, LW_EXCLUSIVE);
    char *refusal = conflict_text(own->source_id, claim);
    if (refusal == nullptr) {
        own->claim = claim;
        own->claim.held = true;
    }
    LWLockRelease(s->lock);
    return refusal;
}

char *running_overlap(int32 source_id, const DirectoryClaim &claim) {
    SharedState *s = shared();
    LWLockAcquire(s->lock, LW_SHARED);
    char *refusal = conflict_text(source_id, claim);
    LWLockRelease(s->lock);
    return refusal;
}

}  // namespace pg_ingest
