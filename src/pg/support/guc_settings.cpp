#include "pg/support/guc_settings.hpp"

#include "pg/access/allowed_directories.hpp"
#include "pg/worker/shared_state.hpp"

extern "C" {
#include "postgres.h"
#include "miscadmin.h"
#include "utils/guc.h"
}

namespace pg_ingest {

bool ingest_enabled = true;
int poll_interval_ms = 1000;
int rejects_retention_minutes = 7 * 24 * 60;
int files_retention_seconds = kKeepFilesForever;
bool prefault_buffers = true;

void define_settings() {
    DefineCustomBoolVariable(
        "pg_ingest.enabled", "Whether the pg_ingest launcher starts source workers.",
        "Off stops every worker and starts none (for maintenance); on resumes the started sources.",
        &ingest_enabled, true, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "pg_ingest.poll_interval", "How often a source worker rescans its directory.",
        "inotify reports new files at once; the rescan is the fallback for file systems "
        "without it (NFS), and catches files that were not announced. A file found only by a "
        "rescan is taken once it has been unmodified this long.",
        &poll_interval_ms, 1000, 10, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr,
        nullptr);
    DefineCustomIntVariable(
        "pg_ingest.rejects_retention", "How long rejected lines are kept in ingest.rejects.",
        "Each source worker deletes older rejects of its source when it starts, on reload and "
        "every hour.",
        &rejects_retention_minutes, 7 * 24 * 60, 1, INT_MAX, PGC_SIGHUP, GUC_UNIT_MIN, nullptr,
        nullptr, nullptr);
    DefineCustomIntVariable(
        "pg_ingest.files_retention",
        "How long ingest.files keeps the rows of done, duplicate and skipped files; -1: forever.",
        "Worker 0 of each source deletes older ones in small transactions, except the rows of "
        "files still in the directory; the size and SHA-256 of a deleted done file stay in "
        "ingest.purged_contents, so a file with its content is still a duplicate.",
        &files_retention_seconds, kKeepFilesForever, kKeepFilesForever, INT_MAX, PGC_SIGHUP,
        GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable(
        "pg_ingest.prefault_buffers",
        "Whether a source worker maps the shared buffer pool into its page tables as it starts.",
        "Each batch's COPY takes new buffers from the clock sweep, so a worker comes to touch "
        "every shared buffer; mapping the pool in one call costs less than a page fault per "
        "page. Off: the worker maps pages as it first touches them, like any backend.",
        &prefault_buffers, true, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable(
        "pg_ingest.allowed_directories",
        "Directories that sources may read from and archive into; empty allows any.",
        "A comma-separated list of absolute paths. A source's directory and its archive "
        "directory must be one of them or lie below one, after resolving symbolic links; checked "
        "by create_source and alter_source, and by the worker before each file, so narrowing the "
        "list and reloading fails the sources it no longer covers.",
        &allowed_directories, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, check_allowed_directories,
        nullptr, nullptr);
    // A postmaster setting can only be defined while the server starts.
    if (process_shared_preload_libraries_in_progress)
        DefineCustomIntVariable(
            "pg_ingest.max_sources",
            "Most source workers that can run at once in the whole server.",
            "A source with the option workers = n takes n; each worker also takes one of "
            "max_worker_processes. ingest.metrics keeps the counters of up to twice this many "
            "sources.",
            &max_sources, 64, 1, 10000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("pg_ingest");
}

}  // namespace pg_ingest
