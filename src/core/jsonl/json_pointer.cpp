#include "core/jsonl/json_pointer.hpp"

#include <stdexcept>

namespace pg_ingest {
namespace {

std::string unescape_token(std::string_view pointer, std::string_view token) {
    std::string unescaped;
    for (size_t i = 0; i < token.size(); i++) {
        if (token[i] != '~') {
            unescaped += token[i];
        } else if (i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
            unescaped += token[++i] == '0' ? '~' : '/';
        } else {
            throw std::invalid_argument("JSON pointer \"" + std::string(pointer) +
                                        "\": '~' must be followed by 0 or 1 (RFC 6901)");
        }
    }
    return unescaped;
}

// An array index token: "0" or digits without a leading zero, within the array.
std::optional<uint32_t> array_index(std::string_view token, uint32_t size) {
    if (token.empty() || token.size() > 10 || (token.size() > 1 && token[0] == '0'))
        return std::nullopt;
    uint64_t index = 0;
    for (char c : token) {
        if (c < '0' || c > '9') return std::nullopt;
        index = index * 10 + static_cast<uint64_t>(c - '0');
    }
    if (index >= size) return std::nullopt;
    return static_cast<uint32_t>(index);
}

}  // namespace

JsonPointer::JsonPointer(std::string_view text) {
    if (text.empty()) return;
    if (text[0] != '/')
        throw std::invalid_argument("JSON pointer \"" + std::string(text) +
                                    "\" must be empty or start with '/' (RFC 6901)");
    size_t start = 1;
    while (true) {
        const size_t end = text.find('/', start);
        const std::string_view token = text.substr(
            start, end == std::string_view::npos ? std::string_view::npos : end - start);
        tokens_.push_back(unescape_token(text, token));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
}

std::optional<uint32_t> JsonPointer::resolve(const JsonTree &tree, uint32_t root) const {
    uint32_t at = root;
    for (const std::string &token : tokens_) {
        const JsonNode &node = tree.node(at);
        std::optional<uint32_t> next;
        if (node.kind == JsonKind::kObject) {
            next = tree.member(node, token);
        } else if (node.kind == JsonKind::kArray) {
            const std::optional<uint32_t> index = array_index(token, node.child_count);
            if (index) next = tree.child(node, *index);
        }
        if (!next) return std::nullopt;
        at = *next;
    }
    return at;
}

}  // namespace pg_ingest
