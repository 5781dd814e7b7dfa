// Time conversions, computed the same way wherever a file's identity is stored or compared:
// file times (nanoseconds since the Unix epoch, as stat gives them) and PostgreSQL timestamps.
#pragma once

#include <cstdint>

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
#include "portability/instr_time.h"
}

#include <ctime>

namespace pg_ingest {

constexpr int64_t kNanosecondsPerSecond = 1000000000;
constexpr int64_t kNanosecondsPerMillisecond = 1000000;

// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
constexpr int64_t kPostgresEpochUs =
    static_cast<int64_t>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;

inline TimestampTz timestamptz_from_ns(int64_t ns) {
    return ns / 1000 - kPostgresEpochUs;
}

inline int64_t ns_from_timestamptz(TimestampTz timestamp) {
    return (timestamp + kPostgresEpochUs) * 1000;
}

inline int64_t ns_from_timespec(const struct timespec &time) {
    return static_cast<int64_t>(time.tv_sec) * kNanosecondsPerSecond + time.tv_nsec;
}

// Milliseconds since `started` (INSTR_TIME_SET_CURRENT).
inline double elapsed_ms(const instr_time &started) {
    instr_time elapsed;
    INSTR_TIME_SET_CURRENT(elapsed);
    INSTR_TIME_SUBTRACT(elapsed, started);
    return INSTR_TIME_GET_MILLISEC(elapsed);
}

}  // namespace pg_ingest
