#include "uuid.hpp"

namespace eventgen {

Uuid random_uuid_v4(RandomEngine &rng) {
    Uuid uuid{rng.next_u64(), rng.next_u64()};
    uuid.high = (uuid.high & ~0xF000ULL) | 0x4000ULL;                       // version 4
    uuid.low = (uuid.low & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10xx
    return uuid;
}

void format_uuid(const Uuid &uuid, char *out) {
    static constexpr char kHex[] = "0123456789abcdef";
    // Groups of 8-4-4-4-12 hex digits; a dash follows hex digits 8, 12, 16 and 20.
    int digit = 0;
    for (int shift = 60; shift >= 0; shift -= 4, ++digit) {
        if (digit == 8 || digit == 12) *out++ = '-';
        *out++ = kHex[(uuid.high >> shift) & 0xF];
    }
    for (int shift = 60; shift >= 0; shift -= 4, ++digit) {
        if (digit == 16 || digit == 20) *out++ = '-';
        *out++ = kHex[(uuid.low >> shift) & 0xF];
    }
}

}  // namespace eventgen
