#include "core/jsonl/jsonb_text.hpp"

namespace pg_ingest {

void append_jsonb_string(std::string_view text, std::string &out) {
    static const char kHexDigits[] = "0123456789abcdef";
    out += '"';
    for (const char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    out += "\\u00";
                    out += kHexDigits[c >> 4];
                    out += kHexDigits[c & 0xF];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

void append_jsonb_text(const JsonTree &tree, uint32_t index, std::string &out) {
    const JsonNode &node = tree.node(index);
    switch (node.kind) {
        case JsonKind::kObject:
        case JsonKind::kArray: {
            const bool object = node.kind == JsonKind::kObject;
            out += object ? '{' : '[';
            for (uint32_t position = 0; position < node.child_count; position++) {
                if (position > 0) out += ", ";
                const uint32_t child = tree.child(node, position);
                if (object) {
                    append_jsonb_string(tree.node(child).key, out);
                    out += ": ";
                }
                append_jsonb_text(tree, child, out);
            }
            out += object ? '}' : ']';
            return;
        }
        case JsonKind::kString:
            append_jsonb_string(node.text, out);
            return;
        case JsonKind::kNumber:
            out += node.text;
            return;
        case JsonKind::kTrue:
            out += "true";
            return;
        case JsonKind::kFalse:
            out += "false";
            return;
        case JsonKind::kNull:
            out += "null";
            return;
    }
}

}  // namespace pg_ingest
