#include "core/jsonl/copy_text_row.hpp"

namespace pg_ingest {

void present_columns(const DecodedLine &line, std::vector<uint32_t> &columns) {
    columns.clear();
    for (size_t column = 0; column < line.values.size(); column++)
        if (line.values[column].state != JsonlValueState::kMissing)
            columns.push_back(static_cast<uint32_t>(column));
}

void append_copy_text_field(std::string_view text, std::string &out) {
    size_t clean_from = 0;
    for (size_t i = 0; i < text.size(); i++) {
        const char c = text[i];
        const char *escape = c == '\\'   ? "\\\\"
                             : c == '\t' ? "\\t"
                             : c == '\n' ? "\\n"
                             : c == '\r' ? "\\r"
                                         : nullptr;
        if (!escape) continue;
        out.append(text.substr(clean_from, i - clean_from));
        out.append(escape);
        clean_from = i + 1;
    }
    out.append(text.substr(clean_from));
}

void append_copy_text_row(const DecodedLine &line, std::string &out) {
    bool first = true;
    for (size_t column = 0; column < line.values.size(); column++) {
        const JsonlValueState state = line.values[column].state;
        if (state == JsonlValueState::kMissing) continue;
        if (!first) out += '\t';
        first = false;
        if (state == JsonlValueState::kNull) {
            out += "\\N";
        } else {
            append_copy_text_field(line.text(column), out);
        }
    }
    out += '\n';
}

}  // namespace pg_ingest
