#include "core/jsonl/jsonb_number.hpp"

#include <algorithm>
#include <cstdint>

namespace pg_ingest {
namespace {

// numeric's limits (src/include/utils/numeric.h, numeric.c's set_var_from_str).
constexpr int64_t kMaxExponent = 1073741823;   // INT_MAX / 2: numeric_in refuses from there on
constexpr int64_t kMaxIntegerDigits = 131072;  // (NUMERIC_WEIGHT_MAX + 1) * DEC_DIGITS
constexpr int64_t kMaxScale = 16383;           // NUMERIC_DSCALE_MAX

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// A number token split by RFC 8259's grammar: -? int frac? exp?
struct NumberParts {
    bool negative = false;
    std::string_view integer, fraction;
    bool has_exponent = false;
    int64_t exponent = 0;  // capped at kMaxExponent in magnitude
};

size_t count_digits(std::string_view text, size_t from) {
    size_t end = from;
    while (end < text.size() && is_digit(text[end])) end++;
    return end - from;
}

bool split_number(std::string_view token, NumberParts &parts) {
    size_t at = 0;
    if (at < token.size() && token[at] == '-') parts.negative = true, at++;
    const size_t integer_digits = count_digits(token, at);
    if (integer_digits == 0 || (integer_digits > 1 && token[at] == '0')) return false;
    parts.integer = token.substr(at, integer_digits);
    at += integer_digits;
    if (at < token.size() && token[at] == '.') {
        const size_t fraction_digits = count_digits(token, at + 1);
        if (fraction_digits == 0) return false;
        parts.fraction = token.substr(at + 1, fraction_digits);
        at += 1 + fraction_digits;
    }
    if (at < token.size() && (token[at] == 'e' || token[at] == 'E')) {
        parts.has_exponent = true;
        at++;
        bool negative_exponent = false;
        if (at < token.size() && (token[at] == '+' || token[at] == '-'))
            negative_exponent = token[at++] == '-';
        const size_t exponent_digits = count_digits(token, at);
        if (exponent_digits == 0) return false;
        for (char digit : token.substr(at, exponent_digits))
            if (parts.exponent < kMaxExponent) parts.exponent = parts.exponent * 10 + (digit - '0');
        if (parts.exponent > kMaxExponent) parts.exponent = kMaxExponent;
        if (negative_exponent) parts.exponent = -parts.exponent;
        at += exponent_digits;
    }
    return at == token.size();
}

// numeric_out's text of digits * 10^(point - digits.size()) with `scale` digits after the point;
// `digits` has no leading zero.
void append_decimal(bool negative, std::string_view digits, int64_t point, int64_t scale,
                    std::string &out) {
    if (negative && !digits.empty()) out += '-';
    const int64_t size = static_cast<int64_t>(digits.size());
    if (point <= 0) {
        out += '0';
    } else {
        out.append(digits.substr(0, static_cast<size_t>(std::min(point, size))));
        if (point > size) out.append(static_cast<size_t>(point - size), '0');
    }
    if (scale == 0) return;
    out += '.';
    for (int64_t position = point; position < point + scale; position++)
        out += position >= 0 && position < size ? digits[static_cast<size_t>(position)] : '0';
}

}  // namespace

JsonbNumberOutcome append_jsonb_number(std::string_view token, std::string &out) {
    NumberParts parts;
    if (!split_number(token, parts)) return JsonbNumberOutcome::kInvalidToken;
    const bool all_zero = parts.integer.find_first_not_of('0') == std::string_view::npos &&
                          parts.fraction.find_first_not_of('0') == std::string_view::npos;
    if (!parts.has_exponent) {  // the common case: numeric_out prints the token back
        if (static_cast<int64_t>(parts.integer.size()) > kMaxIntegerDigits ||
            static_cast<int64_t>(parts.fraction.size()) > kMaxScale)
            return JsonbNumberOutcome::kOverflow;
        out.append(token.substr(parts.negative && all_zero ? 1 : 0));
        return JsonbNumberOutcome::kNumber;
    }
    if (parts.exponent >= kMaxExponent || parts.exponent <= -kMaxExponent)
        return JsonbNumberOutcome::kOverflow;
    const int64_t fraction_size = static_cast<int64_t>(parts.fraction.size());
    const int64_t scale = std::max<int64_t>(0, fraction_size - parts.exponent);
    if (scale > kMaxScale) return JsonbNumberOutcome::kOverflow;
    std::string digits(parts.integer);
    digits.append(parts.fraction);
    const size_t first_nonzero = digits.find_first_not_of('0');
    if (first_nonzero == std::string::npos) {
        append_decimal(false, {}, 0, scale, out);
        return JsonbNumberOutcome::kNumber;
    }
    const std::string_view significant = std::string_view(digits).substr(first_nonzero);
    const int64_t point = static_cast<int64_t>(significant.size()) - fraction_size + parts.exponent;
    if (point > kMaxIntegerDigits) return JsonbNumberOutcome::kOverflow;
    append_decimal(parts.negative, significant, point, scale, out);
    return JsonbNumberOutcome::kNumber;
}

}  // namespace pg_ingest
