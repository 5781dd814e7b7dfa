// ingest._check_overlap and ingest._check_running_overlap: one file, one source. create_source
// and alter_source refuse a source that can take the files of another source of this database;
// ingest.start (and alter_source of a started source) one that can take the files of a started
// source of any database, as its worker would (directory_claim.hpp).
#include "pg/worker/directory_claim.hpp"

extern "C" {
#include "postgres.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

PG_FUNCTION_INFO_V1(ingest_check_overlap);
PG_FUNCTION_INFO_V1(ingest_check_running_overlap);
}

using namespace pg_ingest;

namespace {

// The paths of a row of ingest.sources that the overlap texts name.
struct SourcePaths {
    int32 source_id;
    const char *directory;
    const char *archive_directory;  // nullptr unless on_success = move
};

const char *text_attribute(HeapTupleHeader row, const char *name) {
    bool isnull;
    Datum value = GetAttributeByName(row, name, &isnull);
    return isnull ? nullptr : TextDatumGetCString(value);
}

// An option's string value; nullptr when it is JSON null.
const char *option_text(Jsonb *options, const char *key) {
    JsonbValue *value = getKeyJsonValueFromContainer(&options->root, key, strlen(key), nullptr);
    if (value == nullptr || value->type != jbvString) return nullptr;
    return pnstrdup(value->val.string.val, value->val.string.len);
}

SourcePaths read_source_row(HeapTupleHeader row, DirectoryClaim *claim,
                            UnreadableDirectory unreadable) {
    bool isnull;
    SourcePaths paths;
    paths.source_id = DatumGetInt32(GetAttributeByName(row, "source_id", &isnull));
    paths.directory = text_attribute(row, "directory");
    Jsonb *options = DatumGetJsonbP(GetAttributeByName(row, "options", &isnull));
    paths.archive_directory = option_text(options, "archive_directory");
    fill_claim(claim, text_attribute(row, "name"), paths.directory, text_attribute(row, "pattern"),
               paths.archive_directory, option_text(options, "ready_marker"), unreadable);
    return paths;
}

}  // namespace

extern "C" {

// (source ingest.sources, other ingest.sources): ERROR when source can take other's files.
Datum ingest_check_overlap(PG_FUNCTION_ARGS) {
    auto *source = static_cast<DirectoryClaim *>(palloc(sizeof(DirectoryClaim)));
    auto *other = static_cast<DirectoryClaim *>(palloc(sizeof(DirectoryClaim)));
    SourcePaths paths =
        read_source_row(PG_GETARG_HEAPTUPLEHEADER(0), source, UnreadableDirectory::error);
    (void)read_source_row(PG_GETARG_HEAPTUPLEHEADER(1), other, UnreadableDirectory::matches_none);
    char *text = overlap_text(*source, *other, false, paths.directory, paths.archive_directory);
    if (text != nullptr)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg_internal("%s", text),
                        errhint("Give source \"%s\" a pattern that no file name of source \"%s\" "
                                "matches, or another directory: a file is loaded by one source "
                                "only.",
                                source->source_name, other->source_name)));
    PG_RETURN_VOID();
}

// (source ingest.sources): ERROR when a started source of any database holds a claim that
// source's files overlap.
Datum ingest_check_running_overlap(PG_FUNCTION_ARGS) {
    auto *source = static_cast<DirectoryClaim *>(palloc(sizeof(DirectoryClaim)));
    SourcePaths paths =
        read_source_row(PG_GETARG_HEAPTUPLEHEADER(0), source, UnreadableDirectory::matches_none);
    char *refusal =
        running_overlap(paths.source_id, *source, paths.directory, paths.archive_directory);
    if (refusal != nullptr)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE), errmsg_internal("%s", refusal)));
    PG_RETURN_VOID();
}

}  // extern "C"
