// One JSON Lines line -> one row of the target, by PostgreSQL's own rule: a present key's value
// becomes the text that jsonb_populate_record(NULL::target, line::jsonb) hands to the column
// type's input function, so that COPY's input functions, fed that text (copy_text_row.hpp), type
// it exactly as that function would:
//   - a string: its unescaped text (into a json or jsonb column: its JSON text, quoted);
//   - a number: jsonb's text of it (numeric_out: 1e2 -> 100, -0 -> 0; jsonb_number.hpp);
//   - true / false: "true" / "false";
//   - an object or an array: its text in jsonb's output form (jsonb_text.hpp);
//   - null: NULL.
// A key the line lacks leaves its column missing: the column takes its default. A duplicate key
// counts as in jsonb: the last one. Pure C++: the loader (src/pg) owns the file, the target's
// columns and the rejects; this judges a line.
//
// Not handled (the loader must refuse such a target for jsonl): array and composite columns,
// which jsonb_populate_record fills element by element rather than through the input function.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/jsonl/json_line_parser.hpp"
#include "core/jsonl/json_pointer.hpp"
#include "core/jsonl/json_tree.hpp"
#include "core/jsonl/new_column_type.hpp"

namespace pg_ingest {

// Which input a column's value goes to: every type but json and jsonb takes a string's text.
enum class JsonlColumnKind { kTyped, kJson };

struct JsonlColumn {
    JsonlColumn(std::string column_name, JsonlColumnKind column_kind = JsonlColumnKind::kTyped,
                std::optional<std::string> pointer = std::nullopt)
        : name(std::move(column_name)), kind(column_kind), json_pointer(std::move(pointer)) {}

    std::string name;
    JsonlColumnKind kind = JsonlColumnKind::kTyped;
    // From json_columns: the column's value is found by this RFC 6901 pointer, not by its name.
    std::optional<std::string> json_pointer;
};

// on_new_columns, judged line by line: each line is its own header.
enum class UnknownKeyPolicy {
    kFail,    // the line is rejected, naming the key
    kIgnore,  // dropped
    kRescue,  // the unknown keys, as one jsonb object, go to the rescue column
    kAdd,     // reported with the type of the column to add (unknown_keys); the line is a row
};

struct JsonlDecoderOptions {
    std::vector<JsonlColumn> columns;  // the target's columns, in the target's order
    UnknownKeyPolicy on_unknown_key = UnknownKeyPolicy::kFail;
    std::optional<size_t> rescue_column;  // index into columns; with kRescue only
    size_t max_line_bytes = 1 << 20;      // max_field_bytes: a line longer is rejected
};

enum class JsonlLineOutcome {
    kRow,
    kBlank,              // nothing but whitespace: "blank line", as CSV
    kTooLong,            // more than max_line_bytes
    kInvalidUtf8,        // JSON is UTF-8; a NUL byte is invalid too
    kInvalidJson,        // not JSON, as `line::jsonb` refuses it
    kUnsupportedEscape,  // \u0000, which jsonb refuses
    kNumericOverflow,    // a number beyond numeric
    kNotAnObject,        // an array or a scalar
    kUnknownKey,         // with UnknownKeyPolicy::kFail
};

enum class JsonlValueState { kMissing, kNull, kText };

struct UnknownKey {
    std::string name;
    NewColumnType type;  // what `add` would create (kNone for null)
};

// One line, decoded. `values` has one entry per column, in JsonlDecoderOptions::columns' order.
struct DecodedLine {
    JsonlLineOutcome outcome = JsonlLineOutcome::kRow;
    std::string message;  // why a line that is not a row is rejected, in words that name it
    struct Value {
        JsonlValueState state = JsonlValueState::kMissing;
        size_t offset = 0, size = 0;  // into texts
    };
    std::vector<Value> values;
    std::string texts;                     // every kText value, one after the other
    std::vector<UnknownKey> unknown_keys;  // in jsonb's key order, the last of duplicates

    std::string_view text(size_t column) const {
        return std::string_view(texts).substr(values[column].offset, values[column].size);
    }
};

class JsonlLineDecoder {
  public:
    // Throws std::invalid_argument for options that cannot decode (a bad pointer, a column
    // named twice, a rescue column that is not one of the columns).
    explicit JsonlLineDecoder(JsonlDecoderOptions options);

    // Decodes `line` (without its line end; a CR before it is JSON whitespace). On the first
    // line of a file, a UTF-8 BOM is skipped.
    void decode(std::string_view line, bool first_line_of_file, DecodedLine &decoded);

    const JsonlDecoderOptions &options() const { return options_; }

  private:
    bool judge_bytes(std::string_view line, DecodedLine &decoded) const;
    void map_columns(uint32_t root, DecodedLine &decoded);
    void set_value(size_t column, uint32_t node, DecodedLine &decoded) const;
    void handle_unknown_keys(uint32_t root, DecodedLine &decoded);

    JsonlDecoderOptions options_;
    std::vector<JsonPointer> pointers_;                // per column; empty for by-name
    std::unordered_map<std::string, size_t> by_name_;  // top-level key -> column
    std::unordered_set<std::string> pointer_heads_;    // first tokens of the pointers: known keys
    JsonLineParser parser_;
    JsonTree tree_;
};

}  // namespace pg_ingest
