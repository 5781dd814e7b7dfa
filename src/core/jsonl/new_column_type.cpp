#include "core/jsonl/new_column_type.hpp"

#include <cerrno>
#include <cstdlib>
#include <string>

namespace pg_ingest {
namespace {

bool fits_bigint(std::string_view integer_text) {
    if (integer_text.size() > 20) return false;
    const std::string text(integer_text);
    errno = 0;
    char *end = nullptr;
    std::strtoll(text.c_str(), &end, 10);
    return errno == 0 && end == text.c_str() + text.size();
}

}  // namespace

NewColumnType new_column_type(const JsonNode &value) {
    switch (value.kind) {
        case JsonKind::kString:
            return NewColumnType::kText;
        case JsonKind::kNumber:
            return value.integer_token && fits_bigint(value.text) ? NewColumnType::kBigint
                                                                  : NewColumnType::kNumeric;
        case JsonKind::kTrue:
        case JsonKind::kFalse:
            return NewColumnType::kBoolean;
        case JsonKind::kObject:
        case JsonKind::kArray:
            return NewColumnType::kJsonb;
        case JsonKind::kNull:
            return NewColumnType::kNone;
    }
    return NewColumnType::kNone;
}

std::string_view sql_type_name(NewColumnType type) {
    switch (type) {
        case NewColumnType::kText:
            return "text";
        case NewColumnType::kBigint:
            return "bigint";
        case NewColumnType::kNumeric:
            return "numeric";
        case NewColumnType::kBoolean:
            return "boolean";
        case NewColumnType::kJsonb:
            return "jsonb";
        case NewColumnType::kNone:
            return "";
    }
    return "";
}

}  // namespace pg_ingest
