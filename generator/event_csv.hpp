// The CSV layout of an event: column order, header, the text of each field, and RFC 4180
// quoting. Rows go through RowFields so that bad-row injection can alter fields before writing.
#pragma once

#include <cstddef>
#include <string_view>

#include "event_model.hpp"
#include "output_buffer.hpp"
#include "utc_time.hpp"

namespace eventgen {

constexpr size_t kColumnCount = 9;

enum class JsonRowFault {
    kNone,
    kTruncated,   // the object is cut short
    kArray,       // the values as a JSON array
    kWrongType,   // fault_column's value is of a type its column cannot take
    kMissingKey,  // fault_column's key is left out (every column is NOT NULL)
    kExtraKey,    // one key more than the table has columns
};
extern const std::string_view kColumnNames[kColumnCount];

enum Column : size_t {
    kEventIdColumn,
    kUserIdColumn,
    kProductIdColumn,
    kEventTypeColumn,
    kEventTimeColumn,
    kPriceColumn,
    kCategoryColumn,
    kDeviceColumn,
    kLocationColumn,
};

// Field texts of one row; a bad row may have kColumnCount - 1 or + 1 of them.
struct RowFields {
    std::string_view field[kColumnCount + 1];
    size_t count = kColumnCount;
    // The last field opens a quote that never closes and the row has no line end (only ever on
    // the last line of a file).
    bool leave_last_quote_open = false;
    // JSON Lines faults (event_json.hpp), set by the injector for jsonl files only.
    JsonRowFault json_fault = JsonRowFault::kNone;
    // The column of a kMissingKey or kWrongType fault; for kTruncated, picks where to cut.
    size_t fault_position = 0;
};

// Renders events to field texts; the views stay valid until the next call of fields_of.
class EventFieldFormatter {
  public:
    RowFields fields_of(const Event &event);

  private:
    TimestampFormatter timestamps_;
    char event_id_[kUuidTextLength];
    char user_id_[20];
    char product_id_[20];
    char event_time_[kTimestampTextLength];
    char price_[24];
};

void append_csv_header(OutputBuffer &out);
// Writes the fields joined by commas and a "\n", quoting a field only when it contains a comma,
// a quote or a line break (quotes doubled inside).
void append_csv_row(const RowFields &row, OutputBuffer &out);

}  // namespace eventgen
