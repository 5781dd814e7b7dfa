#include "core/jsonl/json_line_parser.hpp"

#include <simdjson.h>

#include <vector>

#include "core/jsonl/jsonb_number.hpp"

namespace pg_ingest {

namespace ondemand = simdjson::ondemand;

struct JsonLineParser::State {
    ondemand::parser parser;
    std::string padded;  // the line, then simdjson::SIMDJSON_PADDING readable bytes
};

namespace {

// A walk of one document into a tree; the first refusal ends it.
class TreeBuilder {
  public:
    explicit TreeBuilder(JsonTree &tree) : tree_(tree) {}
    const JsonParseResult &result() const { return result_; }

    bool fail(JsonParseOutcome outcome, std::string message) {
        result_.outcome = outcome;
        result_.message = std::move(message);
        return false;
    }
    bool fail_json(simdjson::error_code error) {
        return fail(
            JsonParseOutcome::kInvalidJson,
            std::string("invalid input syntax for type json: ") + simdjson::error_message(error));
    }
    bool fail_json(const char *detail) {
        return fail(JsonParseOutcome::kInvalidJson,
                    std::string("invalid input syntax for type json: ") + detail);
    }

    // Builds `value` (and what it holds) into the tree; sets `index` to its node.
    bool build(ondemand::value value, uint32_t depth, uint32_t &index) {
        if (depth > JsonLineParser::kMaxDepth) return fail_json("nesting too deep");
        ondemand::json_type type;
        if (auto error = value.type().get(type)) return fail_json(error);
        switch (type) {
            case ondemand::json_type::object:
                return build_object(value, depth, index);
            case ondemand::json_type::array:
                return build_array(value, depth, index);
            case ondemand::json_type::string:
                return build_string(value, index);
            case ondemand::json_type::number:
                return build_number(value, index);
            default:
                return build_literal(value, index);
        }
    }

  private:
    // simdjson's \u0000 comes out as a NUL byte, and no raw NUL gets this far.
    bool check_no_nul(std::string_view text) {
        if (text.find('\0') == std::string_view::npos) return true;
        return fail(JsonParseOutcome::kUnsupportedEscape,
                    "unsupported Unicode escape sequence: \\u0000 cannot be converted to text");
    }

    bool build_object(ondemand::value value, uint32_t depth, uint32_t &index) {
        ondemand::object object;
        if (auto error = value.get_object().get(object)) return fail_json(error);
        index = tree_.add_node({JsonKind::kObject});
        std::vector<uint32_t> members;
        for (auto field_result : object) {
            if (auto error = field_result.error()) return fail_json(error);
            ondemand::field field = std::move(field_result.value_unsafe());
            std::string_view key;
            if (auto error = field.unescaped_key().get(key)) return fail_json(error);
            if (!check_no_nul(key)) return false;
            uint32_t member;
            if (!build(field.value(), depth + 1, member)) return false;
            tree_.node(member).key = key;
            members.push_back(member);
        }
        tree_.set_members(index, members);
        return true;
    }

    bool build_array(ondemand::value value, uint32_t depth, uint32_t &index) {
        ondemand::array array;
        if (auto error = value.get_array().get(array)) return fail_json(error);
        index = tree_.add_node({JsonKind::kArray});
        std::vector<uint32_t> items;
        for (auto item_result : array) {
            if (auto error = item_result.error()) return fail_json(error);
            uint32_t item;
            if (!build(std::move(item_result.value_unsafe()), depth + 1, item)) return false;
            items.push_back(item);
        }
        tree_.set_items(index, items);
        return true;
    }

    bool build_string(ondemand::value value, uint32_t &index) {
        std::string_view text;
        if (auto error = value.get_string().get(text)) return fail_json(error);
        if (!check_no_nul(text)) return false;
        JsonNode node{JsonKind::kString};
        node.text = text;
        index = tree_.add_node(node);
        return true;
    }

    bool build_number(ondemand::value value, uint32_t &index) {
        const std::string_view token = scalar_token(value);
        std::string text;
        switch (append_jsonb_number(token, text)) {
            case JsonbNumberOutcome::kInvalidToken:
                return fail_json(("Token \"" + std::string(token) + "\" is invalid.").c_str());
            case JsonbNumberOutcome::kOverflow:
                return fail(JsonParseOutcome::kNumericOverflow, "value overflows numeric format");
            case JsonbNumberOutcome::kNumber:
                break;
        }
        JsonNode node{JsonKind::kNumber};
        node.integer_token = token.find_first_of(".eE") == std::string_view::npos;
        node.text = text == token ? token : tree_.keep_text(std::move(text));
        index = tree_.add_node(node);
        return true;
    }

    bool build_literal(ondemand::value value, uint32_t &index) {
        const std::string_view token = scalar_token(value);
        JsonKind kind;
        if (token == "true") {
            kind = JsonKind::kTrue;
        } else if (token == "false") {
            kind = JsonKind::kFalse;
        } else if (token == "null") {
            kind = JsonKind::kNull;
        } else {
            return fail_json(("Token \"" + std::string(token) + "\" is invalid.").c_str());
        }
        index = tree_.add_node({kind});
        return true;
    }

    // A scalar's token: raw_json_token runs on over the whitespace up to the next token.
    static std::string_view scalar_token(ondemand::value &value) {
        std::string_view token = value.raw_json_token();
        const size_t end = token.find_last_not_of(" \t\n\r");
        return token.substr(0, end == std::string_view::npos ? 0 : end + 1);
    }

    JsonTree &tree_;
    JsonParseResult result_;
};

}  // namespace

JsonLineParser::JsonLineParser() : state_(std::make_unique<State>()) {}
JsonLineParser::~JsonLineParser() = default;

JsonParseResult JsonLineParser::parse(std::string_view line, JsonTree &tree) {
    tree.clear();
    bool scalar = false;
    JsonParseResult result = parse_document(line, tree, scalar);
    if (!scalar) return result;
    // simdjson hands a scalar document out by type only (its value API is for arrays and
    // objects): the scalar is judged, as jsonb would, as the one item of an array.
    tree.clear();
    result = parse_document("[" + std::string(line) + "]", tree, scalar);
    if (result.outcome == JsonParseOutcome::kParsed)
        result.root = tree.child(tree.node(result.root), 0);
    return result;
}

JsonParseResult JsonLineParser::parse_document(std::string_view text, JsonTree &tree,
                                               bool &scalar) {
    state_->padded.assign(text);
    state_->padded.append(simdjson::SIMDJSON_PADDING, ' ');
    TreeBuilder builder(tree);
    const auto refuse = [&builder](auto reason) {
        builder.fail_json(reason);
        return builder.result();
    };
    ondemand::document document;
    ondemand::json_type type;
    ondemand::value root;
    auto iterated =
        state_->parser.iterate(state_->padded.data(), text.size(), state_->padded.size());
    if (auto error = std::move(iterated).get(document)) return refuse(error);
    if (auto error = document.type().get(type)) return refuse(error);
    scalar = type != ondemand::json_type::object && type != ondemand::json_type::array;
    if (scalar) return builder.result();
    if (auto error = document.get_value().get(root)) return refuse(error);
    JsonParseResult result;
    if (!builder.build(root, 1, result.root)) return builder.result();
    // Anything after the root is trailing garbage (current_location fails at the end).
    if (!document.current_location().error()) return refuse("trailing content after the value");
    return result;
}

}  // namespace pg_ingest
