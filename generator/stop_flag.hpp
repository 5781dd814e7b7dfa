// Cooperative stopping: SIGINT/SIGTERM handlers set a flag that the generator polls between
// chunks of rows and while it sleeps.
#pragma once

#include <atomic>
#include <chrono>

namespace eventgen {

using StopFlag = std::atomic<bool>;
static_assert(StopFlag::is_always_lock_free, "set from a signal handler");

// Sleeps until `deadline` in short slices; returns false early if `stop` becomes true.
bool sleep_until_unless_stopped(std::chrono::steady_clock::time_point deadline,
                                const StopFlag &stop);

}  // namespace eventgen
