// File times (nanoseconds since the Unix epoch) as PostgreSQL timestamps, computed the same way
// wherever a file's identity is stored or compared.
#pragma once

#include <cstdint>

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace pg_ingest {

inline TimestampTz timestamptz_from_ns(int64_t ns) {
    return ns / 1000 -
           static_cast<int64_t>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

}  // namespace pg_ingest
