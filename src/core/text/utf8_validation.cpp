#include "core/text/utf8_validation.hpp"

#include <cstdint>
#include <cstring>

namespace pg_ingest {

size_t find_invalid_utf8(const unsigned char *text, size_t size, size_t &bad_length) {
    constexpr uint64_t kHighBits = 0x8080808080808080ULL;
    constexpr uint64_t kLowBits = 0x0101010101010101ULL;
    size_t i = 0;
    while (i < size) {
        if (size - i >= 8) {
            uint64_t word;
            std::memcpy(&word, text + i, 8);
            const bool has_zero_byte = ((word - kLowBits) & ~word & kHighBits) != 0;
            if ((word & kHighBits) == 0 && !has_zero_byte) {
                i += 8;
                continue;
            }
        }
        const unsigned char lead = text[i];
        if (lead < 0x80) {
            if (lead == 0) {
                bad_length = 1;
                return i;
            }
            ++i;
            continue;
        }
        // The second byte's range excludes overlong forms, surrogates and code points past
        // U+10FFFF.
        size_t continuation_bytes;
        unsigned char second_min = 0x80;
        unsigned char second_max = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) {
            continuation_bytes = 1;
        } else if (lead == 0xE0) {
            continuation_bytes = 2;
            second_min = 0xA0;
        } else if (lead == 0xED) {
            continuation_bytes = 2;
            second_max = 0x9F;
        } else if (lead >= 0xE1 && lead <= 0xEF) {
            continuation_bytes = 2;
        } else if (lead == 0xF0) {
            continuation_bytes = 3;
            second_min = 0x90;
        } else if (lead >= 0xF1 && lead <= 0xF3) {
            continuation_bytes = 3;
        } else if (lead == 0xF4) {
            continuation_bytes = 3;
            second_max = 0x8F;
        } else {
            bad_length = 1;
            return i;
        }
        for (size_t k = 1; k <= continuation_bytes; ++k) {
            if (i + k == size) {
                bad_length = k;
                return i;
            }
            const unsigned char byte = text[i + k];
            const unsigned char min = k == 1 ? second_min : 0x80;
            const unsigned char max = k == 1 ? second_max : 0xBF;
            if (byte < min || byte > max) {
                bad_length = k + 1;
                return i;
            }
        }
        i += continuation_bytes + 1;
    }
    return size;
}

std::string describe_invalid_utf8(const unsigned char *bytes, size_t bad_length) {
    if (bytes[0] == 0) return "NUL byte";
    std::string message = "invalid UTF-8 byte sequence";
    static const char kHexDigits[] = "0123456789abcdef";
    for (size_t k = 0; k < bad_length; ++k) {
        message += " 0x";
        message += kHexDigits[bytes[k] >> 4];
        message += kHexDigits[bytes[k] & 0xF];
    }
    return message;
}

}  // namespace pg_ingest
