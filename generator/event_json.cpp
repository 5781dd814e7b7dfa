#include "event_json.hpp"

#include <string>

namespace eventgen {

const std::string_view kNestedJsonColumns =
    R"({"user_id": "/user/id", "user_device": "/user/device", "user_location": "/user/location"})";

namespace {

// What a kWrongType fault writes for a column: a value of a JSON type whose text the column's
// input function refuses. A text column takes the text of any JSON value, so it gets null,
// which its NOT NULL refuses.
constexpr std::string_view kWrongTypeValues[kColumnCount] = {
    "12345",       // event_id: uuid
    "true",        // user_id: bigint
    "[1, 2]",      // product_id: bigint
    "null",        // event_type
    "1767225600",  // event_time: timestamptz refuses a number
    "\"free\"",    // price: numeric
    "null",        // category
    "null",        // user_device
    "null",        // user_location
};

bool is_number_column(size_t column) {
    return column == kUserIdColumn || column == kProductIdColumn || column == kPriceColumn;
}

void append_json_string(std::string_view text, std::string &line) {
    line += '"';
    for (char c : text) {
        if (c == '"' || c == '\\') line += '\\';
        line += c;
    }
    line += '"';
}

void append_value(const RowFields &row, size_t column, std::string &line) {
    if (row.json_fault == JsonRowFault::kWrongType && row.fault_position == column) {
        line += kWrongTypeValues[column];
    } else if (is_number_column(column)) {
        line += row.field[column];
    } else {
        append_json_string(row.field[column], line);
    }
}

// "key": value, unless the fault leaves the key out; `first` tracks the separator.
void append_member(const RowFields &row, std::string_view key, size_t column, bool &first,
                   std::string &line) {
    if (row.json_fault == JsonRowFault::kMissingKey && row.fault_position == column) return;
    if (!first) line += ", ";
    first = false;
    append_json_string(key, line);
    line += ": ";
    append_value(row, column, line);
}

void append_object(const RowFields &row, bool nested, std::string &line) {
    bool first = true;
    line += '{';
    for (size_t column = 0; column < kColumnCount; column++) {
        const bool user_field =
            column == kUserIdColumn || column == kDeviceColumn || column == kLocationColumn;
        if (nested && user_field && column != kUserIdColumn) continue;
        if (nested && column == kUserIdColumn) {
            if (!first) line += ", ";
            first = false;
            line += "\"user\": {";
            bool first_in_user = true;
            append_member(row, "id", kUserIdColumn, first_in_user, line);
            append_member(row, "device", kDeviceColumn, first_in_user, line);
            append_member(row, "location", kLocationColumn, first_in_user, line);
            line += '}';
            continue;
        }
        append_member(row, kColumnNames[column], column, first, line);
    }
    if (row.json_fault == JsonRowFault::kExtraKey) line += ", \"coupon\": \"SPRING26\"";
    line += '}';
}

}  // namespace

void append_json_row(const RowFields &row, bool nested, OutputBuffer &out) {
    thread_local std::string line;
    line.clear();
    if (row.json_fault == JsonRowFault::kArray) {
        line += '[';
        for (size_t column = 0; column < kColumnCount; column++) {
            if (column > 0) line += ", ";
            append_value(row, column, line);
        }
        line += ']';
    } else {
        append_object(row, nested, line);
    }
    // Truncated: cut after the opening brace and before the closing one (fault_position picks
    // where), so what is left is never a whole object.
    if (row.json_fault == JsonRowFault::kTruncated)
        line.resize(1 + row.fault_position % (line.size() - 1));
    line += '\n';
    out.append(line);
}

}  // namespace eventgen
