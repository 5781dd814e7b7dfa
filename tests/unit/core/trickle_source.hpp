// A ByteSource for tests that hands out at most `step` bytes per read, so that lines, headers
// and blocks arrive in pieces.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

#include "core/csv/csv_reader.hpp"

namespace pg_ingest {

class TrickleSource : public ByteSource {
  public:
    TrickleSource(std::string data, size_t step) : data_(std::move(data)), step_(step) {}
    size_t read(char *buf, size_t size) override {
        const size_t count = std::min({size, step_, data_.size() - position_});
        std::memcpy(buf, data_.data() + position_, count);
        position_ += count;
        return count;
    }

  private:
    std::string data_;
    size_t step_;
    size_t position_ = 0;
};

}  // namespace pg_ingest
