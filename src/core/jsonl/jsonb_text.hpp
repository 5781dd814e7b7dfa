// jsonb's output form (JsonbToCString): {"a": 1, "b": [true, null]}, keys in jsonb's order, a
// space after each ':' and ','; strings escaped as escape_json does (\" \\ \b \f \n \r \t, other
// bytes below 0x20 as \u00XX, everything else, '/' and non-ASCII included, as it is). This is
// the text jsonb_populate_record hands to a column for an object or an array, and for any value
// into a json or jsonb column.
#pragma once

#include <string>
#include <string_view>

#include "core/jsonl/json_tree.hpp"

namespace pg_ingest {

void append_jsonb_string(std::string_view text, std::string &out);
void append_jsonb_text(const JsonTree &tree, uint32_t node, std::string &out);

}  // namespace pg_ingest
