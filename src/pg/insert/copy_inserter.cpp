#include "pg/insert/copy_inserter.hpp"

#include "pg/access/utility_hook.hpp"
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
#include "nodes/makefuncs.h"
#include "nodes/value.h"
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

const char *copy_path_name(CopyPath path) {
    switch (path) {
        case CopyPath::direct:
            return "direct COPY";
        case CopyPath::spi:
            return "COPY through SPI";
    }
    return "?";
}

CopyPath current_copy_path() {
    return utility_hooks_beyond_own() ? CopyPath::spi : CopyPath::direct;
}

// Writes from staging offset `at`; copy_staged cuts the file to the staged length, so pages
// already there are reused rather than freed and faulted in again for every batch.
void stage_span(int data_fd, uint64 start, uint64 end, uint64 at) {
    int target = staging_fd();
    char buffer[65536];
    uint64 from = start;
    off_t to = static_cast<off_t>(at);
    while (from < end) {
        size_t got = read_data_file(data_fd, buffer, Min(end - from, sizeof buffer), from, end);
        if (pwrite(target, buffer, got, to) != static_cast<ssize_t>(got))
            ereport(ERROR,
                    (errcode_for_file_access(), errmsg("could not write the staging file: %m")));
        from += got;
        to += got;
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

// What copy_statement says, as BeginCopyFrom takes it, in the current memory context.
DirectCopyTarget direct_copy_target(const SourceDefinition *source, const char *const *header_names,
                                    int header_count) {
    List *columns = NIL;
    for (int i = 0; header_names != nullptr && i < header_count; i++)
        columns = lappend(columns, makeString(pstrdup(header_names[i])));
    char delimiter[2] = {source->delimiter, '\0'};
    char quote[2] = {source->quote, '\0'};
    List *options = list_make5(
        makeDefElem(pstrdup("format"), reinterpret_cast<Node *>(makeString(pstrdup("csv"))), -1),
        makeDefElem(pstrdup("delimiter"), reinterpret_cast<Node *>(makeString(pstrdup(delimiter))),
                    -1),
        makeDefElem(pstrdup("quote"), reinterpret_cast<Node *>(makeString(pstrdup(quote))), -1),
        makeDefElem(pstrdup("null"),
                    reinterpret_cast<Node *>(makeString(pstrdup(source->null_string))), -1),
        makeDefElem(
            pstrdup("encoding"),
            reinterpret_cast<Node *>(makeString(pstrdup(pg_encoding_to_char(source->encoding)))),
            -1));
    return {source->target, columns, options};
}

}  // namespace

CopyInserter *prepare_copy_inserter(const SourceDefinition *source, const char *const *header_names,
                                    int header_count, TransformBatch *transform,
                                    MemoryContext context) {
    // COPY FROM refuses row-level security; with a transform it fills `batch`, which has none.
    if (transform == nullptr &&
        check_enable_rls(source->target, source->owner, true) == RLS_ENABLED)
        return nullptr;
    auto *inserter =
        static_cast<CopyInserter *>(MemoryContextAllocZero(context, sizeof(CopyInserter)));
    inserter->owner = source->owner;
    inserter->transform = transform;
    // A transform's COPY fills pg_temp.batch, which its statement names: through SPI.
    inserter->path = transform != nullptr ? CopyPath::spi : current_copy_path();
    // Both paths stage shared batches of small files (see file_loader.cpp).
    staging_fd();
    if (inserter->path == CopyPath::spi) {
        inserter->plan = run_as_owner(source->owner, [&] {
            return prepare_kept_plan(copy_statement(source, header_names, header_count), 0,
                                     nullptr);
        });
    } else {
        MemoryContext outside = MemoryContextSwitchTo(context);
        inserter->target = direct_copy_target(source, header_names, header_count);
        MemoryContextSwitchTo(outside);
    }
    return inserter;
}

void free_copy_inserter(CopyInserter *inserter) {
    if (inserter != nullptr && inserter->plan != nullptr) SPI_freeplan(inserter->plan);
}

namespace {

// The bytes a COPY reads: [start, end) of fd (the data file, or the staging file).
struct CopyAttempt {
    CopyInserter *inserter;
    int fd;
    uint64 start;
    uint64 end;
    uint64 rows;
    const ReadFence *fence;  // nullptr: the rows are known before
    bool copied;
};

uint64 copy_through_spi(const CopyInserter *inserter) {
    int ret = SPI_execute_plan(inserter->plan, nullptr, nullptr, false, 0);
    check_spi_result(ret, SPI_OK_UTILITY, "COPY");
    return SPI_processed;
}

// Kept only when COPY stored exactly the span's rows.
bool attempt_copy(void *arg) {
    auto *attempt = static_cast<CopyAttempt *>(arg);
    CopyInserter *inserter = attempt->inserter;
    if (inserter->transform != nullptr) empty_transform_batch(inserter->transform);
    uint64 stored = run_as_owner(inserter->owner, [&] {
        return inserter->path == CopyPath::direct
                   ? copy_directly(&inserter->target, attempt->fd, attempt->start, attempt->end,
                                   attempt->fence)
                   : copy_through_spi(inserter);
    });
    if (attempt->fence != nullptr) attempt->rows = attempt->fence->rows();
    attempt->copied = stored == attempt->rows;
    if (attempt->copied && inserter->transform != nullptr) run_transform(inserter->transform);
    if (!attempt->copied)
        elog(DEBUG1, "pg_ingest: %s of a span of %llu rows stored %llu, loading it row by row",
             copy_path_name(inserter->path), static_cast<unsigned long long>(attempt->rows),
             static_cast<unsigned long long>(stored));
    return attempt->copied;
}

bool run_copy_attempt(CopyAttempt *attempt) {
    ErrorData *error = run_in_subtransaction(attempt_copy, attempt);
    if (error != nullptr) {
        elog(DEBUG1, "pg_ingest: %s of a span failed, loading it row by row: %s",
             copy_path_name(attempt->inserter->path), error->message);
        FreeErrorData(error);
        return false;
    }
    return attempt->copied;
}

}  // namespace

bool copy_staged(CopyInserter *inserter, uint64 length, uint64 rows) {
    // The spi path's COPY reads the staging file to its end.
    if (inserter->path == CopyPath::spi && ftruncate(staging_fd(), static_cast<off_t>(length)) != 0)
        ereport(ERROR,
                (errcode_for_file_access(), errmsg("could not truncate the staging file: %m")));
    CopyAttempt attempt = {inserter, staging_fd(), 0, length, rows, nullptr, false};
    return run_copy_attempt(&attempt);
}

bool copy_span(CopyInserter *inserter, int data_fd, uint64 start, uint64 end, uint64 rows) {
    if (inserter->path == CopyPath::spi) {
        stage_span(data_fd, start, end, 0);
        return copy_staged(inserter, end - start, rows);
    }
    CopyAttempt attempt = {inserter, data_fd, start, end, rows, nullptr, false};
    return run_copy_attempt(&attempt);
}

bool copy_fenced_span(CopyInserter *inserter, int data_fd, uint64 start, uint64 end,
                      const ReadFence *fence) {
    Assert(inserter->path == CopyPath::direct && inserter->transform == nullptr);
    CopyAttempt attempt = {inserter, data_fd, start, end, 0, fence, false};
    return run_copy_attempt(&attempt);
}

}  // namespace pg_ingest
