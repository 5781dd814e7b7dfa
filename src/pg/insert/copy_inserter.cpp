#include "pg/insert/copy_inserter.hpp"

#include "pg/insert/transform_batch.hpp"
#include "pg/support/prepared_statement.hpp"
#include "pg/support/run_as_owner.hpp"
#include "pg/support/subtransaction.hpp"

extern "C" {
#include <sys/mman.h>
#include <unistd.h>

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rls.h"
}

namespace pg_ingest {

namespace {

// The worker's staging file: an anonymous in-memory file (memfd) that COPY opens through
// /proc/self/fd. It never reaches a disk, so there is no writeback to wait for when it is
// rewritten, and nothing to clean up after a crash.
int staging_file = -1;
char *staging_path = nullptr;

int staging_fd() {
    if (staging_file < 0) {
        staging_file = memfd_create("pg_ingest batch", MFD_CLOEXEC);
        if (staging_file < 0)
            ereport(ERROR, (errcode_for_file_access(),
                            errmsg("could not create an in-memory staging file: %m")));
        staging_path =
            MemoryContextStrdup(TopMemoryContext, psprintf("/proc/self/fd/%d", staging_file));
    }
    return staging_file;
}

}  // namespace

// Writes from staging offset `at`; copy_staged cuts the file to the staged length, so pages
// already there are reused rather than freed and faulted in again for every batch.
void stage_span(int data_fd, uint64 start, uint64 end, uint64 at) {
    int target = staging_fd();
    char buffer[65536];
    off_t from = static_cast<off_t>(start);
    off_t to = static_cast<off_t>(at);
    uint64 left = end - start;
    while (left > 0) {
        ssize_t got = pread(data_fd, buffer, Min(left, sizeof buffer), from);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0)
            ereport(ERROR, (errcode_for_file_access(), errmsg("could not read data file: %m")));
        if (got == 0)
            ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                            errmsg("data file ended %llu bytes early",
                                   static_cast<unsigned long long>(left))));
        if (pwrite(target, buffer, static_cast<size_t>(got), to) != got)
            ereport(ERROR,
                    (errcode_for_file_access(), errmsg("could not write the staging file: %m")));
        from += got;
        to += got;
        left -= static_cast<uint64>(got);
    }
}

namespace {

const char *copy_statement(const SourceDefinition *source, const char *const *header_names,
                           int header_count) {
    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfo(&sql, "COPY %s", load_relation_name(source));
    if (header_names != nullptr) {
        appendStringInfoString(&sql, " (");
        for (int i = 0; i < header_count; i++)
            appendStringInfo(&sql, "%s%s", i ? ", " : "", quote_identifier(header_names[i]));
        appendStringInfoChar(&sql, ')');
    }
    char delimiter[2] = {source->delimiter, '\0'};
    char quote[2] = {source->quote, '\0'};
    appendStringInfo(&sql,
                     " FROM %s WITH (FORMAT csv, DELIMITER %s, QUOTE %s, NULL %s, ENCODING %s)",
                     quote_literal_cstr(staging_path), quote_literal_cstr(delimiter),
                     quote_literal_cstr(quote), quote_literal_cstr(source->null_string),
                     quote_literal_cstr(pg_encoding_to_char(source->encoding)));
    return sql.data;
}

}  // namespace

CopyInserter *prepare_copy_inserter(const SourceDefinition *source, const char *const *header_names,
                                    int header_count, TransformBatch *transform,
                                    MemoryContext context) {
    // COPY FROM refuses row-level security; with a transform it fills `batch`, which has none.
    if (transform == nullptr &&
        check_enable_rls(source->target, source->owner, true) == RLS_ENABLED)
        return nullptr;
    staging_fd();
    SPIPlanPtr plan = run_as_owner(source->owner, [&] {
        return prepare_kept_plan(copy_statement(source, header_names, header_count), 0, nullptr);
    });
    auto *inserter =
        static_cast<CopyInserter *>(MemoryContextAllocZero(context, sizeof(CopyInserter)));
    inserter->owner = source->owner;
    inserter->plan = plan;
    inserter->transform = transform;
    return inserter;
}

void free_copy_inserter(CopyInserter *inserter) {
    if (inserter != nullptr && inserter->plan != nullptr) SPI_freeplan(inserter->plan);
}

namespace {

struct CopyAttempt {
    CopyInserter *inserter;
    uint64 rows;
    bool copied;
};

// Kept only when COPY stored exactly the span's rows.
bool attempt_copy(void *arg) {
    auto *attempt = static_cast<CopyAttempt *>(arg);
    TransformBatch *transform = attempt->inserter->transform;
    if (transform != nullptr) empty_transform_batch(transform);
    int ret = run_as_owner(attempt->inserter->owner, [&] {
        return SPI_execute_plan(attempt->inserter->plan, nullptr, nullptr, false, 0);
    });
    attempt->copied = ret == SPI_OK_UTILITY && SPI_processed == attempt->rows;
    if (attempt->copied && transform != nullptr) run_transform(transform);
    if (!attempt->copied)
        elog(DEBUG1,
             "pg_ingest: COPY of a span of %llu rows stored %llu (%s), loading it row by row",
             static_cast<unsigned long long>(attempt->rows),
             static_cast<unsigned long long>(SPI_processed), SPI_result_code_string(ret));
    return attempt->copied;
}

}  // namespace

bool copy_staged(CopyInserter *inserter, uint64 length, uint64 rows) {
    if (ftruncate(staging_fd(), static_cast<off_t>(length)) != 0)
        ereport(ERROR,
                (errcode_for_file_access(), errmsg("could not truncate the staging file: %m")));
    CopyAttempt attempt = {inserter, rows, false};
    ErrorData *error = run_in_subtransaction(attempt_copy, &attempt);
    if (error != nullptr) {
        elog(DEBUG1, "pg_ingest: COPY of a span failed, loading it row by row: %s", error->message);
        FreeErrorData(error);
        return false;
    }
    return attempt.copied;
}

bool copy_span(CopyInserter *inserter, int data_fd, uint64 start, uint64 end, uint64 rows) {
    stage_span(data_fd, start, end, 0);
    return copy_staged(inserter, end - start, rows);
}

}  // namespace pg_ingest
