#include "core/jsonl/jsonl_line_decoder.hpp"

#include <stdexcept>

#include "core/jsonl/jsonb_text.hpp"
#include "core/text/utf8_validation.hpp"

namespace pg_ingest {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

bool is_json_whitespace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

JsonlLineOutcome line_outcome(JsonParseOutcome outcome) {
    switch (outcome) {
        case JsonParseOutcome::kParsed:
            return JsonlLineOutcome::kRow;
        case JsonParseOutcome::kInvalidJson:
            return JsonlLineOutcome::kInvalidJson;
        case JsonParseOutcome::kUnsupportedEscape:
            return JsonlLineOutcome::kUnsupportedEscape;
        case JsonParseOutcome::kNumericOverflow:
            return JsonlLineOutcome::kNumericOverflow;
    }
    return JsonlLineOutcome::kInvalidJson;
}

}  // namespace

JsonlLineDecoder::JsonlLineDecoder(JsonlDecoderOptions options) : options_(std::move(options)) {
    const std::vector<JsonlColumn> &columns = options_.columns;
    if (options_.rescue_column && *options_.rescue_column >= columns.size())
        throw std::invalid_argument("the rescue column is not a column of the target");
    for (size_t column = 0; column < columns.size(); column++) {
        for (size_t other = 0; other < column; other++)
            if (columns[other].name == columns[column].name)
                throw std::invalid_argument("column \"" + columns[column].name +
                                            "\" is named twice");
        const bool rescue = options_.rescue_column == column;
        pointers_.emplace_back(columns[column].json_pointer.value_or(""));
        if (columns[column].json_pointer) {
            if (rescue)
                throw std::invalid_argument("the rescue column \"" + columns[column].name +
                                            "\" cannot have a JSON pointer");
            if (!pointers_.back().tokens().empty())
                pointer_heads_.insert(pointers_.back().tokens().front());
        } else if (!rescue) {
            by_name_.emplace(columns[column].name, column);
        }
    }
}

void JsonlLineDecoder::decode(std::string_view line, bool first_line_of_file,
                              DecodedLine &decoded) {
    decoded.outcome = JsonlLineOutcome::kRow;
    decoded.message.clear();
    decoded.values.assign(options_.columns.size(), DecodedLine::Value{});
    decoded.texts.clear();
    decoded.unknown_keys.clear();
    const bool starts_with_bom = line.substr(0, kByteOrderMark.size()) == kByteOrderMark;
    if (first_line_of_file && starts_with_bom) line.remove_prefix(kByteOrderMark.size());
    if (!judge_bytes(line, decoded)) return;
    // simdjson 3.12 and later skip a BOM at a document's start themselves; inside a file jsonb
    // refuses it (Token "<BOM>" is invalid), whatever simdjson Debian ships.
    if (!first_line_of_file && starts_with_bom) {
        decoded.outcome = JsonlLineOutcome::kInvalidJson;
        decoded.message = "a byte order mark is valid only at the start of a file";
        return;
    }
    const JsonParseResult parsed = parser_.parse(line, tree_);
    if (parsed.outcome != JsonParseOutcome::kParsed) {
        decoded.outcome = line_outcome(parsed.outcome);
        decoded.message = parsed.message;
        return;
    }
    const JsonKind root_kind = tree_.node(parsed.root).kind;
    if (root_kind != JsonKind::kObject) {
        decoded.outcome = JsonlLineOutcome::kNotAnObject;
        decoded.message = std::string("a JSON Lines line must be a JSON object, not ") +
                          (root_kind == JsonKind::kArray ? "an array" : "a scalar");
        return;
    }
    map_columns(parsed.root, decoded);
    handle_unknown_keys(parsed.root, decoded);
}

// The checks before parsing: length, blank, UTF-8.
bool JsonlLineDecoder::judge_bytes(std::string_view line, DecodedLine &decoded) const {
    if (line.size() > options_.max_line_bytes) {
        decoded.outcome = JsonlLineOutcome::kTooLong;
        decoded.message =
            "line exceeds " + std::to_string(options_.max_line_bytes) + " bytes (max_field_bytes)";
        return false;
    }
    size_t first_content = 0;
    while (first_content < line.size() && is_json_whitespace(line[first_content])) first_content++;
    if (first_content == line.size()) {
        decoded.outcome = JsonlLineOutcome::kBlank;
        decoded.message = "blank line";
        return false;
    }
    const auto *bytes = reinterpret_cast<const unsigned char *>(line.data());
    size_t bad_length = 0;
    const size_t bad_position = find_invalid_utf8(bytes, line.size(), bad_length);
    if (bad_position == line.size()) return true;
    decoded.outcome = JsonlLineOutcome::kInvalidUtf8;
    decoded.message = describe_invalid_utf8(bytes + bad_position, bad_length) + " at byte " +
                      std::to_string(bad_position + 1) + " of the line";
    return false;
}

void JsonlLineDecoder::map_columns(uint32_t root, DecodedLine &decoded) {
    const JsonNode &object = tree_.node(root);
    for (size_t column = 0; column < options_.columns.size(); column++) {
        if (!options_.columns[column].json_pointer) continue;
        const std::optional<uint32_t> found = pointers_[column].resolve(tree_, root);
        if (found) set_value(column, *found, decoded);
    }
    for (uint32_t position = 0; position < object.child_count; position++) {
        const uint32_t member = tree_.child(object, position);
        const auto column = by_name_.find(std::string(tree_.node(member).key));
        if (column != by_name_.end()) set_value(column->second, member, decoded);
    }
}

void JsonlLineDecoder::set_value(size_t column, uint32_t index, DecodedLine &decoded) const {
    const JsonNode &node = tree_.node(index);
    DecodedLine::Value &value = decoded.values[column];
    if (node.kind == JsonKind::kNull) {
        value.state = JsonlValueState::kNull;
        return;
    }
    value.state = JsonlValueState::kText;
    value.offset = decoded.texts.size();
    const bool json_column = options_.columns[column].kind == JsonlColumnKind::kJson;
    if (node.kind == JsonKind::kString && !json_column) {
        decoded.texts += node.text;
    } else {
        append_jsonb_text(tree_, index, decoded.texts);
    }
    value.size = decoded.texts.size() - value.offset;
}

void JsonlLineDecoder::handle_unknown_keys(uint32_t root, DecodedLine &decoded) {
    const JsonNode &object = tree_.node(root);
    std::string rescued;  // the unknown members as a jsonb object's text
    for (uint32_t position = 0; position < object.child_count; position++) {
        const uint32_t member = tree_.child(object, position);
        const std::string key(tree_.node(member).key);
        if (by_name_.count(key) != 0 || pointer_heads_.count(key) != 0) continue;
        decoded.unknown_keys.push_back({key, new_column_type(tree_.node(member))});
        rescued += rescued.empty() ? "{" : ", ";
        append_jsonb_string(key, rescued);
        rescued += ": ";
        append_jsonb_text(tree_, member, rescued);
    }
    if (decoded.unknown_keys.empty()) return;
    if (options_.on_unknown_key == UnknownKeyPolicy::kFail) {
        decoded.outcome = JsonlLineOutcome::kUnknownKey;
        decoded.message = "key \"" + decoded.unknown_keys.front().name +
                          "\" is not a column of the target (on_new_columns is fail; use "
                          "ignore, rescue or add, or add the column)";
    } else if (options_.on_unknown_key == UnknownKeyPolicy::kRescue && options_.rescue_column) {
        DecodedLine::Value &value = decoded.values[*options_.rescue_column];
        value.state = JsonlValueState::kText;
        value.offset = decoded.texts.size();
        decoded.texts += rescued;
        decoded.texts += '}';
        value.size = decoded.texts.size() - value.offset;
    }
}

}  // namespace pg_ingest
