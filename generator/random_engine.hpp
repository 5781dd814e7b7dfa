// Seedable pseudo-random source for the generator: xoshiro256** with our own distributions, so a
// seed gives the same bytes with any standard library (std::*_distribution is
// implementation-defined).
#pragma once

#include <cstdint>

namespace eventgen {

class RandomEngine {
  public:
    // Expands a 64-bit seed with splitmix64, as the xoshiro authors recommend.
    static RandomEngine from_seed(uint64_t seed);
    // Seeds all 256 bits of state from std::random_device.
    static RandomEngine from_entropy();

    uint64_t next_u64() {
        const uint64_t result = rotate_left(state_[1] * 5, 7) * 9;
        const uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotate_left(state_[3], 45);
        return result;
    }

    // Uniform in [0, bound) for bound > 0 (Lemire's multiply-shift; the bias is below 2^-32 for
    // the small bounds used here, far below anything a test could notice).
    uint32_t below(uint32_t bound) {
        return static_cast<uint32_t>(((next_u64() >> 32) * static_cast<uint64_t>(bound)) >> 32);
    }

    // Uniform in [0, 1) with 53 random bits.
    double unit() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

    bool chance(double probability) { return unit() < probability; }

  private:
    static uint64_t rotate_left(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    uint64_t state_[4];
};

// splitmix64 finalizer: a cheap, well-mixed hash of a 64-bit value. Also used to derive fixed
// per-product and per-user attributes that do not depend on the seed.
inline uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

}  // namespace eventgen
