#include "pg/worker/worker_state.hpp"

namespace pg_ingest {

const char *state_name(WorkerState state) {
    switch (state) {
        case WorkerState::stopped:
            return "stopped";
        case WorkerState::starting:
            return "starting";
        case WorkerState::idle:
            return "idle";
        case WorkerState::loading:
            return "loading";
        case WorkerState::retrying:
            return "retrying";
        case WorkerState::needs_update:
            return "needs update";
        case WorkerState::waiting_for_worker:
            return "waiting for a worker";
    }
    return "unknown";
}

}  // namespace pg_ingest
