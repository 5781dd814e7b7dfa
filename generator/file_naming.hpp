// Final names "PREFIX_YYYYMMDD_HHMMSS_mmm[_NNN].csv" or .jsonl (UTC wall clock with milliseconds):
// byte order is creation order, so a watcher that sorts names processes files as they were made.
#pragma once

#include <cstdint>
#include <string>

namespace eventgen {

class FileNamer {
  public:
    // `extension` with its dot: ".csv".
    explicit FileNamer(std::string prefix, std::string extension = ".csv")
        : prefix_(std::move(prefix)), extension_(std::move(extension)) {}

    // A candidate name that sorts after every name this namer returned before. Within one
    // millisecond (or if the clock stepped back) it adds the suffix _001 .. _999, which sorts
    // after the bare name since '.' < '_'; past _999 it moves on to the next millisecond. The
    // caller asks again if the name exists already (another run wrote it).
    std::string next();

    // The name for a wall-clock time in milliseconds and a suffix number (0 = none).
    std::string name_for(int64_t unix_millis, int suffix) const;

  private:
    std::string prefix_;
    std::string extension_;
    int64_t last_millis_ = INT64_MIN;
    int suffix_ = 0;
};

}  // namespace eventgen
