#include "utc_time.hpp"

#include <chrono>

namespace eventgen {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

int64_t floor_div(int64_t value, int64_t divisor) {
    const int64_t quotient = value / divisor;
    return (value % divisor < 0) ? quotient - 1 : quotient;
}

// Writes `value` as exactly `width` decimal digits (zero-padded; value must fit).
char *put_digits(char *out, int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    return out + width;
}

}  // namespace

CivilTime civil_from_unix_seconds(int64_t seconds) {
    const int64_t days = floor_div(seconds, kSecondsPerDay);
    const int64_t second_of_day = seconds - days * kSecondsPerDay;
    // Howard Hinnant's days_from_civil inverse: eras of 400 years starting on March 1st.
    const int64_t shifted = days + 719468;
    const int64_t era = floor_div(shifted, 146097);
    const int64_t day_of_era = shifted - era * 146097;
    const int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    const int64_t day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const int64_t month_index = (5 * day_of_year + 2) / 153;  // 0 = March
    CivilTime civil;
    civil.day = static_cast<int>(day_of_year - (153 * month_index + 2) / 5 + 1);
    civil.month = static_cast<int>(month_index < 10 ? month_index + 3 : month_index - 9);
    civil.year = year_of_era + era * 400 + (civil.month <= 2 ? 1 : 0);
    civil.hour = static_cast<int>(second_of_day / 3600);
    civil.minute = static_cast<int>(second_of_day / 60 % 60);
    civil.second = static_cast<int>(second_of_day % 60);
    return civil;
}

int64_t unix_micros_now() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void TimestampFormatter::format(int64_t unix_micros, char *out) {
    const int64_t second = floor_div(unix_micros, 1000000);
    if (second != cached_second_) {
        const CivilTime civil = civil_from_unix_seconds(second);
        char *p = put_digits(cached_prefix_, civil.year, 4);
        *p++ = '-';
        p = put_digits(p, civil.month, 2);
        *p++ = '-';
        p = put_digits(p, civil.day, 2);
        *p++ = ' ';
        p = put_digits(p, civil.hour, 2);
        *p++ = ':';
        p = put_digits(p, civil.minute, 2);
        *p++ = ':';
        put_digits(p, civil.second, 2);
        cached_second_ = second;
    }
    for (int i = 0; i < 19; ++i) out[i] = cached_prefix_[i];
    out[19] = '.';
    char *p = put_digits(out + 20, unix_micros - second * 1000000, 6);
    p[0] = '+';
    p[1] = '0';
    p[2] = '0';
}

void format_file_stamp(int64_t unix_millis, char *out) {
    const int64_t second = floor_div(unix_millis, 1000);
    const CivilTime civil = civil_from_unix_seconds(second);
    char *p = put_digits(out, civil.year, 4);
    p = put_digits(p, civil.month, 2);
    p = put_digits(p, civil.day, 2);
    *p++ = '_';
    p = put_digits(p, civil.hour, 2);
    p = put_digits(p, civil.minute, 2);
    p = put_digits(p, civil.second, 2);
    *p++ = '_';
    put_digits(p, unix_millis - second * 1000, 3);
}

}  // namespace eventgen
