#include "zipf_sampler.hpp"

#include <cmath>
#include <stdexcept>

namespace eventgen {

ZipfSampler::ZipfSampler(uint32_t count, double exponent) : keep_threshold_(count), alias_(count) {
    if (count == 0) throw std::invalid_argument("ZipfSampler needs at least one rank");
    std::vector<double> scaled(count);
    double total = 0;
    for (uint32_t k = 0; k < count; ++k) {
        scaled[k] = 1.0 / std::pow(k + 1.0, exponent);
        total += scaled[k];
    }
    // Scale so that the average column holds exactly 1, then pair under-full columns with over-full
    // ones (Vose's variant, numerically stable).
    std::vector<uint32_t> small;
    std::vector<uint32_t> large;
    for (uint32_t k = 0; k < count; ++k) {
        scaled[k] *= count / total;
        (scaled[k] < 1.0 ? small : large).push_back(k);
    }
    while (!small.empty() && !large.empty()) {
        const uint32_t under = small.back();
        small.pop_back();
        const uint32_t over = large.back();
        keep_threshold_[under] = static_cast<uint32_t>(scaled[under] * 4294967296.0);
        alias_[under] = over;
        scaled[over] -= 1.0 - scaled[under];
        if (scaled[over] < 1.0) {
            large.pop_back();
            small.push_back(over);
        }
    }
    // What is left is full up to rounding error: always keep it.
    for (uint32_t k : small) {
        keep_threshold_[k] = UINT32_MAX;
        alias_[k] = k;
    }
    for (uint32_t k : large) {
        keep_threshold_[k] = UINT32_MAX;
        alias_[k] = k;
    }
}

}  // namespace eventgen
