#include "file_naming.hpp"

#include <fmt/format.h>

#include <chrono>

#include "utc_time.hpp"

namespace eventgen {
namespace {

constexpr int kMaxSuffix = 999;  // three digits keep byte order equal to numeric order

}  // namespace

std::string FileNamer::next() {
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    if (now > last_millis_) {
        last_millis_ = now;
        suffix_ = 0;
    } else if (++suffix_ > kMaxSuffix) {
        ++last_millis_;
        suffix_ = 0;
    }
    return name_for(last_millis_, suffix_);
}

std::string FileNamer::name_for(int64_t unix_millis, int suffix) const {
    char stamp[kFileStampLength];
    format_file_stamp(unix_millis, stamp);
    const std::string_view stamp_text(stamp, kFileStampLength);
    if (suffix == 0) return fmt::format("{}_{}{}", prefix_, stamp_text, extension_);
    return fmt::format("{}_{}_{:03}{}", prefix_, stamp_text, suffix, extension_);
}

}  // namespace eventgen
