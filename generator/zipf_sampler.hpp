// Zipf-distributed ranks in O(1) per draw (Walker's alias method), for "a few users and products
// get most of the traffic".
#pragma once

#include <cstdint>
#include <vector>

#include "random_engine.hpp"

namespace eventgen {

class ZipfSampler {
  public:
    // Rank k in [0, count) gets weight 1 / (k + 1)^exponent.
    ZipfSampler(uint32_t count, double exponent);

    uint32_t sample(RandomEngine &rng) const {
        const uint64_t bits = rng.next_u64();
        const uint32_t column = static_cast<uint32_t>(
            ((bits >> 32) * static_cast<uint64_t>(keep_threshold_.size())) >> 32);
        // The low 32 bits decide between the column and its alias.
        return static_cast<uint32_t>(bits) < keep_threshold_[column] ? column : alias_[column];
    }

  private:
    // Column k keeps rank k when the 32-bit coin is below keep_threshold_[k], else yields
    // alias_[k].
    std::vector<uint32_t> keep_threshold_;
    std::vector<uint32_t> alias_;
};

}  // namespace eventgen
