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

// A row of ingest.sources as a claim; returns its source_id.
int32 read_source_row(HeapTupleHeader row, DirectoryClaim *claim) {
    bool isnull;
    Jsonb *options = DatumGetJsonbP(GetAttributeByName(row, "options", &isnull));
    fill_claim(claim, text_attribute(row, "name"), text_attribute(row, "directory"),
               text_attribute(row, "pattern"), option_text(options, "archive_directory"),
               option_text(options, "ready_marker"));
    return DatumGetInt32(GetAttributeByName(row, "source_id", &isnull));
}

}  // namespace

extern "C" {

// (source ingest.sources, other ingest.sources): ERROR when source can take other's files.
Datum ingest_check_overlap(PG_FUNCTION_ARGS) {
    auto *source = static_cast<DirectoryClaim *>(palloc(sizeof(DirectoryClaim)));
    auto *other = static_cast<DirectoryClaim *>(palloc(sizeof(DirectoryClaim)));
    (void)read_source_row(PG_GETARG_HEAPTUPLEHEADER(0), source);
    (void)read_source_row(PG_GETARG_HEAPTUPLEHEADER(1), other);
    char *text = overlap_text(*source, *other, false);
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
    int32 source_id = read_source_row(PG_GETARG_HEAPTUPLEHEADER(0), source);
    char *refusal = running_overlap(source_id, *source);
    if (refusal != nullptr)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE), errmsg_internal("%s", refusal)));
    PG_RETURN_VOID();
}

}  // extern "C"
