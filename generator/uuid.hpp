// Random (version 4) UUIDs and their canonical 36-character text form.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "random_engine.hpp"

namespace eventgen {

struct Uuid {
    uint64_t high;
    uint64_t low;

    bool operator==(const Uuid &other) const { return high == other.high && low == other.low; }
};

constexpr size_t kUuidTextLength = 36;

// 122 random bits with the version (4) and RFC 4122 variant bits set.
Uuid random_uuid_v4(RandomEngine &rng);

// Writes exactly kUuidTextLength lowercase characters, e.g. 3f1c...-...; no terminator.
void format_uuid(const Uuid &uuid, char *out);

}  // namespace eventgen
