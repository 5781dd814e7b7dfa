#include "pg/load/on_success.hpp"

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

}  // namespace

// The file's completeness marker, when the source uses them, goes with it.
void apply_on_success(const SourceDefinition *source, const char *path, const char *shown,
                      const FileRow *file) {
    apply_on_success_to(source, path, shown, file->disk_name);
    if (source->ready_marker[0] == '\0') return;
    const char *marker = source->ready_marker;
    apply_on_success_to(source, psprintf("%s/%s%s", source->directory, file->disk_name, marker),
                        psprintf("%s/%s%s", source->directory, file->file_name, marker),
                        psprintf("%s%s", file->disk_name, marker));
}

}  // namespace pg_ingest
