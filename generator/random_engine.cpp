#include "random_engine.hpp"

#include <random>

namespace eventgen {

RandomEngine RandomEngine::from_seed(uint64_t seed) {
    RandomEngine engine;
    for (uint64_t &word : engine.state_) {
        word = mix64(seed);
        seed += 0x9e3779b97f4a7c15ULL;
    }
    return engine;
}

RandomEngine RandomEngine::from_entropy() {
    std::random_device device;
    RandomEngine engine;
    for (uint64_t &word : engine.state_) {
        word = (static_cast<uint64_t>(device()) << 32) | device();
    }
    // An all-zero state would stay zero forever.
    if ((engine.state_[0] | engine.state_[1] | engine.state_[2] | engine.state_[3]) == 0) {
        engine.state_[0] = 1;
    }
    return engine;
}

}  // namespace eventgen
