#include "core/jsonl/json_tree.hpp"

#include <algorithm>
#include <cstring>

namespace pg_ingest {

void JsonTree::clear() {
    nodes_.clear();
    children_.clear();
    kept_texts_.clear();
}

uint32_t JsonTree::add_node(JsonNode node) {
    nodes_.push_back(node);
    return static_cast<uint32_t>(nodes_.size() - 1);
}

bool JsonTree::key_before(std::string_view left, std::string_view right) {
    if (left.size() != right.size()) return left.size() < right.size();
    return std::memcmp(left.data(), right.data(), left.size()) < 0;
}

void JsonTree::set_members(uint32_t parent, std::vector<uint32_t> &children) {
    // Stable: of equal keys, the one written last stays last, and is the one kept.
    std::stable_sort(children.begin(), children.end(), [this](uint32_t left, uint32_t right) {
        return key_before(nodes_[left].key, nodes_[right].key);
    });
    JsonNode &object = nodes_[parent];
    object.first_child = static_cast<uint32_t>(children_.size());
    for (size_t i = 0; i < children.size(); i++) {
        const bool superseded =
            i + 1 < children.size() && nodes_[children[i]].key == nodes_[children[i + 1]].key;
        if (!superseded) children_.push_back(children[i]);
    }
    object.child_count = static_cast<uint32_t>(children_.size()) - object.first_child;
}

void JsonTree::set_items(uint32_t parent, const std::vector<uint32_t> &children) {
    JsonNode &array = nodes_[parent];
    array.first_child = static_cast<uint32_t>(children_.size());
    array.child_count = static_cast<uint32_t>(children.size());
    children_.insert(children_.end(), children.begin(), children.end());
}

std::string_view JsonTree::keep_text(std::string text) {
    return kept_texts_.emplace_back(std::move(text));
}

std::optional<uint32_t> JsonTree::member(const JsonNode &object, std::string_view key) const {
    const auto begin = children_.begin() + object.first_child;
    const auto end = begin + object.child_count;
    const auto found = std::lower_bound(
        begin, end, key,
        [this](uint32_t index, std::string_view k) { return key_before(nodes_[index].key, k); });
    if (found == end || nodes_[*found].key != key) return std::nullopt;
    return *found;
}

}  // namespace pg_ingest
