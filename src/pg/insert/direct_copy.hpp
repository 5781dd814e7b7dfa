// COPY FROM without a COPY statement: what DoCopy does for `COPY target (columns) FROM 'file'`,
// with BeginCopyFrom reading a byte range of an open file through its data_source_cb straight
// into COPY's input buffer (no staging copy). With a ReadFence, COPY reads only as far as the
// span the fence admits, which it finds in COPY's own buffer: the span's text is read once. The
// same checks as DoCopy, as the current user (the caller runs it as the source's owner): the
// privilege to COPY FROM a file, INSERT on the target's columns (and ExecutorCheckPerms_hook), no
// row-level security, no read-only transaction; the target opened with RowExclusiveLock.
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

// What the fence made of bytes just read into COPY's buffer.
struct FenceStep {
    size_t admitted;  // the leading bytes that belong to the span
    bool closed;      // the span ended among them: COPY reads no further
};

// Where COPY stops reading (file_reading.hpp has the one in use: the span scanner). Plain
// functions, as COPY's callback takes no argument of its own.
struct ReadFence {
    // Raises when the bytes hold a row the span may not take (one COPY might read otherwise than
    // CsvReader): COPY is then abandoned.
    FenceStep (*admit)(const char *data, size_t size);
    // The input ended (at `end`) while the span was open; raises as admit does.
    void (*input_ended)();
    // The rows in what it admitted.
    uint64 (*rows)();
};

// Reads up to `want` bytes of the data file at offset `at` (want <= end - at); raises when it
// cannot, or when the file ends before `end`.
size_t read_data_file(int fd, char *out, size_t want, uint64 at, uint64 end);

// COPYs bytes [start, end) of fd into the target, or with `fence` (else nullptr) only those it
// admits; returns the rows COPY stored. Raises what COPY raises. Needs a transaction.
uint64 copy_directly(const DirectCopyTarget *target, int fd, uint64 start, uint64 end,
                     const ReadFence *fence);

}  // namespace pg_ingest
