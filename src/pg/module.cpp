// Module entry point: settings, shared memory, the launcher and the hooks.
#include "pg/support/guc_settings.hpp"
#include "pg/worker/launcher.hpp"
#include "pg/worker/shared_state.hpp"
#include "pg/worker/source_metrics.hpp"
#include "pg/access/extension_drop.hpp"
#include "pg/access/utility_hook.hpp"
#include "pg/worker/worker_control.hpp"

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

void _PG_init(void) {
    pg_ingest::define_settings();
    // Loaded on demand by a backend: the SQL functions work, but workers need shared memory,
    // and ingest.start says how to get it.
    if (!process_shared_preload_libraries_in_progress) return;
    pg_ingest::request_shared_state();
    pg_ingest::request_source_metrics();
    pg_ingest::register_worker_control();
    pg_ingest::install_utility_hook();
    pg_ingest::install_extension_drop_hook();
    if (!IsBinaryUpgrade) pg_ingest::register_launcher();
}
}
