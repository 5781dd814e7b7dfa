// A source worker's COPY of each batch gets a new bulk-write ring, whose buffers come from the
// clock sweep: over its life the worker writes into every shared buffer, and the first touch of
// each page of the pool is a page fault. Mapping the pool up front is one system call.
#pragma once

namespace pg_ingest {

// With pg_ingest.prefault_buffers, maps the shared buffer pool into this process's page tables
// (MADV_POPULATE_WRITE, Linux 5.14 and later; elsewhere nothing happens). Never fails.
void prefault_shared_buffers();

}  // namespace pg_ingest
