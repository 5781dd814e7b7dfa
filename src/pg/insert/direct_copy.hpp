// COPY FROM without a COPY statement: what DoCopy does for `COPY target (columns) FROM 'file'`,
// with BeginCopyFrom reading a byte range of an open file through its data_source_cb straight
// into COPY's input buffer (no staging copy). The same checks as DoCopy, as the current user
// (the caller runs it as the source's owner): the privilege to COPY FROM a file, INSERT on the
// target's columns (and ExecutorCheckPerms_hook), no row-level security, no read-only
// transaction; the target opened with RowExclusiveLock.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/pg_list.h"
}

namespace pg_ingest {

struct DirectCopyTarget {
    Oid relation;
    List *columns;  // String nodes, NIL for the target's columns in order
    List *options;  // DefElems as COPY's WITH (...) takes them
};

// COPYs bytes [start, end) of fd into the target; returns the rows COPY stored. Raises what
// COPY raises. Needs a transaction.
uint64 copy_directly(const DirectCopyTarget *target, int fd, uint64 start, uint64 end);

}  // namespace pg_ingest
