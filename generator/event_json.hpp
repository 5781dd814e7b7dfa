// The JSON Lines layout of an event: one object per line whose keys are the table's columns,
// numbers as JSON numbers (user_id, product_id, price) and texts as JSON strings. Nested, the
// user's fields go into one object: {"event_id": ..., "user": {"id": ..., "device": ...,
// "location": ...}, "product_id": ..., ...}, which json_columns maps back with the pointers
// /user/id, /user/device and /user/location. A row's JsonRowFault is written as asked.
#pragma once

#include <string_view>

#include "event_csv.hpp"
#include "output_buffer.hpp"

namespace eventgen {

// The json_columns option that maps a nested file to the table (a jsonb object's text).
extern const std::string_view kNestedJsonColumns;

// Appends the row as one line ending in "\n".
void append_json_row(const RowFields &row, bool nested, OutputBuffer &out);

}  // namespace eventgen
