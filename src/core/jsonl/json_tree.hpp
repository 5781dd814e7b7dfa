// One JSON Lines line, parsed: a tree of nodes as jsonb holds it. An object's members are sorted
// as jsonb sorts keys (shorter first, then bytewise) with duplicate keys reduced to the last one,
// strings are unescaped and numbers are numeric_out's text (jsonb_number.hpp). The texts are
// views into the parser's buffers and the tree's own store: valid until the next line is parsed.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pg_ingest {

enum class JsonKind : uint8_t { kObject, kArray, kString, kNumber, kTrue, kFalse, kNull };

struct JsonNode {
    JsonNode(JsonKind node_kind) : kind(node_kind) {}  // NOLINT: {JsonKind::kArray} reads well

    JsonKind kind;
    bool integer_token = false;  // a number written without fraction or exponent
    std::string_view key;        // as a member of an object
    std::string_view text;       // a string's unescaped text, a number's jsonb text
    uint32_t first_child = 0;  // into JsonTree's child list: an object's members, an array's items
    uint32_t child_count = 0;
};

class JsonTree {
  public:
    void clear();
    uint32_t add_node(JsonNode node);
    // Makes `children` (node indexes) the members of `parent`, an object: sorted by key as
    // jsonb does, the last of equal keys kept.
    void set_members(uint32_t parent, std::vector<uint32_t> &children);
    void set_items(uint32_t parent, const std::vector<uint32_t> &children);
    // A number's text that is not the token itself: kept here until clear().
    std::string_view keep_text(std::string text);

    const JsonNode &node(uint32_t index) const { return nodes_[index]; }
    JsonNode &node(uint32_t index) { return nodes_[index]; }
    uint32_t child(const JsonNode &parent, uint32_t position) const {
        return children_[parent.first_child + position];
    }
    // The member `key` of an object node (binary search in jsonb's order).
    std::optional<uint32_t> member(const JsonNode &object, std::string_view key) const;
    // jsonb's key order: shorter first, then bytewise (lengthCompareJsonbStringValue).
    static bool key_before(std::string_view left, std::string_view right);

  private:
    std::vector<JsonNode> nodes_;
    std::vector<uint32_t> children_;
    std::deque<std::string> kept_texts_;  // a deque never moves its strings
};

}  // namespace pg_ingest
