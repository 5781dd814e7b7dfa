// What a source worker is doing, as ingest.status and ingest.workers show it.
#pragma once

namespace pg_ingest {

enum class WorkerState {
    stopped,             // no process (the slot's initial state)
    starting,            // attached, not yet watching
    idle,                // nothing open to load
    loading,             // loading current_file
    retrying,            // a round failed outside any file; trying again shortly
    needs_update,        // the catalog is of another version than the library
    waiting_for_worker,  // waiting for a free worker slot
};

// The state's text in ingest.status.state and ingest.workers.state.
const char *state_name(WorkerState state);

}  // namespace pg_ingest
