#include "pg/insert/direct_copy.hpp"

#include "pg/support/pg_compat.hpp"

extern "C" {
#include <unistd.h>

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "commands/copy.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
}

namespace pg_ingest {

namespace {

// The byte range data_source_cb reads; the callback takes no argument of its own.
struct SpanInput {
    int fd;
    uint64 next;
    uint64 end;
    const ReadFence *fence;  // nullptr: to `end`
    bool closed;             // the fence closed the span
};

SpanInput input = {-1, 0, 0, nullptr, false};

// COPY asks for at least minread bytes (it is satisfied with fewer only at the end) and at most
// maxread; 0 means end of input. The fence sees every byte before COPY does.
int read_span(void *outbuf, int minread, int maxread) {
    auto *out = static_cast<char *>(outbuf);
    int filled = 0;
    while (filled < minread && input.next < input.end && !input.closed) {
        size_t want = Min(static_cast<uint64>(maxread - filled), input.end - input.next);
        size_t got = read_data_file(input.fd, out + filled, want, input.next, input.end);
        if (input.fence != nullptr) {
            FenceStep step = input.fence->admit(out + filled, got);
            got = step.admitted;
            input.closed = step.closed;
        }
        filled += static_cast<int>(got);
        input.next += static_cast<uint64>(got);
    }
    if (filled == 0 && input.fence != nullptr && !input.closed) {
        input.closed = true;
        input.fence->input_ended();
    }
    return filled;
}

// COPY FROM a file's rule, as DoCopy applies it.
void check_may_copy_from_file() {
    if (superuser() || has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES)) return;
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("permission denied to COPY from a file"),
                    errdetail("Only roles with privileges of the \"%s\" role may COPY from a file.",
                              "pg_read_server_files")));
}

// DoCopy's INSERT check on the target's columns, as the current user.
void check_insert_permission(ParseState *pstate, Relation rel, List *attnums) {
    ParseNamespaceItem *item =
        addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, nullptr, false, false);
    check_insert_on_columns(pstate, item, attnums);
}

}  // namespace

size_t read_data_file(int fd, char *out, size_t want, uint64 at, uint64 end) {
    for (;;) {
        ssize_t got = pread(fd, out, want, static_cast<off_t>(at));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0)
            ereport(ERROR, (errcode_for_file_access(), errmsg("could not read data file: %m")));
        if (got == 0)
            ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                            errmsg("data file ended %llu bytes early",
                                   static_cast<unsigned long long>(end - at))));
        return static_cast<size_t>(got);
    }
}

uint64 copy_directly(const DirectCopyTarget *target, int fd, uint64 start, uint64 end,
                     const ReadFence *fence) {
    check_may_copy_from_file();
    PreventCommandIfReadOnly("COPY FROM");
    Relation rel = table_open(target->relation, RowExclusiveLock);
    ParseState *pstate = make_parsestate(nullptr);
    check_insert_permission(pstate, rel,
                            CopyGetAttnums(RelationGetDescr(rel), rel, target->columns));
    if (check_enable_rls(RelationGetRelid(rel), InvalidOid, false) == RLS_ENABLED)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("COPY FROM not supported with row-level security"),
                        errhint("Use INSERT statements instead.")));
    input = {fd, start, end, fence, false};
    // As for a COPY statement: its triggers and constraints see a snapshot taken now, and the
    // next statement sees its rows.
    PushActiveSnapshot(GetTransactionSnapshot());
    CopyFromState state = BeginCopyFrom(pstate, rel, nullptr, nullptr, false, read_span,
                                        target->columns, target->options);
    uint64 stored = CopyFrom(state);
    EndCopyFrom(state);
    PopActiveSnapshot();
    CommandCounterIncrement();
    table_close(rel, NoLock);
    free_parsestate(pstate);
    input = {-1, 0, 0, nullptr, false};
    return stored;
}

}  // namespace pg_ingest
