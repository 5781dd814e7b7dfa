#include "stop_flag.hpp"

#include <algorithm>
#include <thread>

namespace eventgen {
namespace {

// How late a stop request may be noticed while sleeping.
constexpr std::chrono::milliseconds kSleepSlice{50};

}  // namespace

bool sleep_until_unless_stopped(std::chrono::steady_clock::time_point deadline,
                                const StopFlag &stop) {
    for (;;) {
        if (stop.load(std::memory_order_relaxed)) return false;
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return true;
        std::this_thread::sleep_for(
            std::min<std::chrono::steady_clock::duration>(deadline - now, kSleepSlice));
    }
}

}  // namespace eventgen
