// on_new_columns = add: the type of a column made for an unknown key, from the value that
// brought it (documented in docs/formats.md).
#pragma once

#include <string_view>

#include "core/jsonl/json_tree.hpp"

namespace pg_ingest {

enum class NewColumnType {
    kText,     // a string
    kBigint,   // a number written as an integer that fits bigint
    kNumeric,  // any other number (a fraction, an exponent, beyond bigint)
    kBoolean,  // true or false
    kJsonb,    // an object or an array
    kNone,     // null: no type; the key waits for a line that gives it a value
};

NewColumnType new_column_type(const JsonNode &value);
// The SQL type name (kNone has none: empty).
std::string_view sql_type_name(NewColumnType type);

}  // namespace pg_ingest
