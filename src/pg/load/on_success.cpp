#include "pg/load/on_success.hpp"

#include "pg/access/write_privilege.hpp"
#include "pg/support/worker_transaction.hpp"

extern "C" {
#include <stdio.h>
#include <unistd.h>
}

namespace pg_ingest {

namespace {

void apply_on_success_to(const SourceDefinition *source, const char *path, const char *shown,
                         const char *disk_name) {
    if (source->on_success == OnSuccess::Delete) {
        if (unlink(path) != 0)
            ereport(WARNING,
                    (errcode_for_file_access(),
                     errmsg("pg_ingest source \"%s\": could not delete loaded file \"%s\": %m",
                            source->name, shown)));
    } else if (source->on_success == OnSuccess::Move) {
        char *destination = psprintf("%s/%s", source->archive_directory, disk_name);
        if (rename(path, destination) != 0)
            ereport(WARNING,
                    (errcode_for_file_access(),
                     errmsg("pg_ingest source \"%s\": could not move loaded file \"%s\" to "
                            "\"%s\": %m",
                            source->name, shown, source->archive_directory)));
    }
}

// The owner's right to write server files, asked again in a transaction of its own just before
// the delete or move: the commit that marked the file done checked it, but a REVOKE may have
// committed since. Without it the done file stays where it is and its row says why.
bool owner_may_still_write(const SourceDefinition *source, const FileRow *file) {
    begin_worker_transaction();
    const char *refusal = write_privilege_refusal(source->owner, source->on_success);
    if (refusal != nullptr) {
        note_file_kept(file->file_id, psprintf("loaded, but not moved or deleted: %s", refusal));
        ereport(WARNING, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                          errmsg("pg_ingest source \"%s\": loaded file \"%s\" stays where it is: "
                                 "%s",
                                 source->name, file->file_name, refusal)));
    }
    commit_worker_transaction();
    return refusal == nullptr;
}

}  // namespace

// The file's completeness marker, when the source uses them, goes with it.
void apply_on_success(const SourceDefinition *source, const char *path, const char *shown,
                      const FileRow *file) {
    if (source->on_success == OnSuccess::Keep || !owner_may_still_write(source, file)) return;
    apply_on_success_to(source, path, shown, file->disk_name);
    if (source->ready_marker[0] == '\0') return;
    const char *marker = source->ready_marker;
    apply_on_success_to(source, psprintf("%s/%s%s", source->directory, file->disk_name, marker),
                        psprintf("%s/%s%s", source->directory, file->file_name, marker),
                        psprintf("%s%s", file->disk_name, marker));
}

}  // namespace pg_ingest
