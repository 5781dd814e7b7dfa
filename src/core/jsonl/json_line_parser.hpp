// Parses one JSON Lines line with simdjson (Debian's libsimdjson-dev) into a JsonTree, judging it
// as PostgreSQL's `line::jsonb` does: what that cast refuses is refused here, with its reason.
//
// simdjson's API used is the one Debian 12 (3.0.1), 13 (3.12) and sid (4.6) share: the On-Demand
// parser's iterate(const char *, size_t, size_t), document::type/get_value/current_location,
// value::type/get_object/get_array/get_string/raw_json_token and field::unescaped_key/value.
// The DOM parser is not used: it parses numbers into doubles, so it refuses 1e400 (which jsonb
// keeps exactly) and loses the digits of big integers; On-Demand hands out each number's token,
// which jsonb_number.hpp turns into numeric's text.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/jsonl/json_tree.hpp"

namespace pg_ingest {

enum class JsonParseOutcome {
    kParsed,
    kInvalidJson,        // PostgreSQL: invalid input syntax for type json
    kUnsupportedEscape,  // \u0000: PostgreSQL: unsupported Unicode escape sequence
    kNumericOverflow,    // PostgreSQL: value overflows numeric format
};

struct JsonParseResult {
    JsonParseOutcome outcome = JsonParseOutcome::kParsed;
    std::string message;  // empty when parsed
    uint32_t root = 0;    // the root node of the tree, when parsed
};

class JsonLineParser {
  public:
    // Nesting deeper than this is refused (simdjson's default depth).
    static constexpr uint32_t kMaxDepth = 1024;

    JsonLineParser();
    ~JsonLineParser();
    JsonLineParser(const JsonLineParser &) = delete;
    JsonLineParser &operator=(const JsonLineParser &) = delete;

    // Parses `line` (valid UTF-8, checked by the caller) into `tree`, cleared first.
    JsonParseResult parse(std::string_view line, JsonTree &tree);

  private:
    // Parses an object or array document; for a scalar one sets `scalar` and parses nothing.
    JsonParseResult parse_document(std::string_view text, JsonTree &tree, bool &scalar);

    struct State;  // simdjson's parser and the padded copy of the line: simdjson.h stays here
    std::unique_ptr<State> state_;
};

}  // namespace pg_ingest
