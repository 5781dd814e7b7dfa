// A JSON number as jsonb keeps it: jsonb stores every number as PostgreSQL's numeric (numeric_in
// of the token), so its text is numeric_out's: 1e2 -> 100, 1.50e1 -> 15.0, 1E-2 -> 0.01,
// -0 -> 0, -0.0 -> 0.0, 1e400 -> 1 and 400 zeros. That text is what jsonb_populate_record hands
// to a column's input function (text, numeric, integer alike).
#pragma once

#include <string>
#include <string_view>

namespace pg_ingest {

enum class JsonbNumberOutcome {
    kNumber,        // appended
    kInvalidToken,  // not a number of RFC 8259's grammar (PostgreSQL: Token "01" is invalid.)
    kOverflow,      // beyond numeric (PostgreSQL: value overflows numeric format)
};

// Appends numeric_out's text of the JSON number `token` to `out` (nothing unless kNumber).
// numeric's limits (PostgreSQL 15): at most 131072 digits before the point, 16383 after it, and
// an exponent below 1073741823 in magnitude, whatever the value.
JsonbNumberOutcome append_jsonb_number(std::string_view token, std::string &out);

}  // namespace pg_ingest
