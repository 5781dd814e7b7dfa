#include "table_ddl.hpp"

#include <fmt/format.h>

#include "event_csv.hpp"

namespace eventgen {
namespace {

// PostgreSQL types parallel to kColumnNames.
constexpr std::string_view kColumnTypes[kColumnCount] = {
    "uuid PRIMARY KEY", "bigint NOT NULL",      "bigint NOT NULL",
    "text NOT NULL",    "timestamptz NOT NULL", "numeric(12,2) NOT NULL",
    "text NOT NULL",    "text NOT NULL",        "text NOT NULL",
};

bool is_plain_identifier(std::string_view name) {
    if (name.empty() || name.size() > 63 || (name[0] >= '0' && name[0] <= '9') || name[0] == '$') {
        return false;
    }
    for (char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$'))
            return false;
    }
    return true;
}

std::string quote_identifier(std::string_view name) {
    if (is_plain_identifier(name)) return std::string(name);
    std::string quoted = "\"";
    for (char c : name) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted + '"';
}

std::string qualified_name(std::string_view table) {
    const size_t dot = table.find('.');
    if (dot == std::string_view::npos) return quote_identifier(table);
    return quote_identifier(table.substr(0, dot)) + "." + quote_identifier(table.substr(dot + 1));
}

}  // namespace

std::string create_table_ddl(std::string_view table) {
    std::string ddl = fmt::format("CREATE TABLE {} (\n", qualified_name(table));
    for (size_t i = 0; i < kColumnCount; ++i) {
        ddl += fmt::format("    {} {}{}\n", kColumnNames[i], kColumnTypes[i],
                           i + 1 < kColumnCount ? "," : "");
    }
    ddl += ");\n";
    return ddl;
}

}  // namespace eventgen
