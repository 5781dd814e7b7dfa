// UTC calendar formatting without the C library's locale- and timezone-aware functions: event
// times for PostgreSQL timestamptz and wall-clock stamps for file names.
#pragma once

#include <cstddef>
#include <cstdint>

namespace eventgen {

struct CivilTime {
    int64_t year;
    int month;  // 1..12
    int day;    // 1..31
    int hour;
    int minute;
    int second;
};

CivilTime civil_from_unix_seconds(int64_t seconds);

// Microseconds since 1970-01-01 00:00:00 UTC.
int64_t unix_micros_now();
// 2026-01-01 00:00:00+00, where event times start when a seed is given.
constexpr int64_t kSeededEpochMicros = 1767225600LL * 1000000;

// "YYYY-MM-DD HH:MM:SS.ffffff+00": ISO 8601 with microseconds and UTC offset, as PostgreSQL
// timestamptz reads and writes it.
constexpr size_t kTimestampTextLength = 29;

// Caches the date-and-time part of the current second, since consecutive events mostly share it.
class TimestampFormatter {
  public:
    // Writes exactly kTimestampTextLength characters (years 0..9999); no terminator.
    void format(int64_t unix_micros, char *out);

  private:
    int64_t cached_second_ = INT64_MIN;
    char cached_prefix_[20];  // "YYYY-MM-DD HH:MM:SS" (19 characters used)
};

// "YYYYMMDD_HHMMSS_mmm" for file names; writes exactly kFileStampLength characters.
constexpr size_t kFileStampLength = 19;
void format_file_stamp(int64_t unix_millis, char *out);

}  // namespace eventgen
