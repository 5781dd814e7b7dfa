#include "pg/access/extension_drop.hpp"

#include "pg/worker/source_metrics.hpp"
#include "pg/worker/worker_control.hpp"

extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "miscadmin.h"
}

namespace pg_ingest {

namespace {

object_access_hook_type previous_object_access_hook = nullptr;
bool forget_metrics_at_commit = false;

void on_object_access(ObjectAccessType access, Oid class_id, Oid object_id, int sub_id, void *arg) {
    if (previous_object_access_hook)
        previous_object_access_hook(access, class_id, object_id, sub_id, arg);
    if (access != OAT_DROP || class_id != ExtensionRelationId) return;
    const char *name = get_extension_name(object_id);
    if (name == nullptr || strcmp(name, "pg_ingest") != 0) return;
    // The dropping transaction holds its locks on the catalog already: a worker waiting for one
    // of them ends at the signal. The launcher rescans at commit (nothing to start then) and at
    // an abort, or a rollback to a savepoint, that leaves the extension in place.
    // A worker that has not exited by then stops at its next transaction, which finds the
    // extension gone (see source_worker.cpp).
    if (stop_database_workers(MyDatabaseId, kStopWorkersTimeoutMs) != WorkersStop::none)
        rescan_workers_at_commit();
    forget_metrics_at_commit = true;
}

void on_transaction_end(XactEvent event, void *) {
    switch (event) {
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_PARALLEL_COMMIT:
            if (forget_metrics_at_commit) forget_database_metrics(MyDatabaseId);
            break;
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_ABORT:
        case XACT_EVENT_PREPARE:
            break;
        default:
            return;
    }
    forget_metrics_at_commit = false;
}

}  // namespace

void install_extension_drop_hook() {
    previous_object_access_hook = object_access_hook;
    object_access_hook = on_object_access;
    RegisterXactCallback(on_transaction_end, nullptr);
}

}  // namespace pg_ingest
