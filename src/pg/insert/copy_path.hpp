// Which way a plain span reaches COPY (see copy_inserter.hpp): shown in the DEBUG1 line of each
// batch and counted in ingest.metrics (batches_direct_copy, batches_spi_copy).
#pragma once

namespace pg_ingest {

enum class CopyPath {
    // BeginCopyFrom/CopyFrom fed from the data file (or the staging file of a shared batch) by a
    // callback: no COPY statement, no staging copy of a span. Only where no ProcessUtility hook
    // but pg_ingest's own is installed, since no hook sees such a COPY.
    direct,
    // A COPY statement through SPI from the staging file: every ProcessUtility hook (Citus,
    // TimescaleDB, pg_stat_statements) sees it as the owner's own COPY.
    spi,
};

const char *copy_path_name(CopyPath path);

}  // namespace pg_ingest
