#include "manifest.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iterator>

namespace eventgen {

uint64_t FileManifest::bad_line_count() const {
    uint64_t count = 0;
    for (const auto &lines : bad_lines) count += lines.size();
    return count;
}

std::string manifest_json(const FileManifest &manifest, const std::string &file_name) {
    // Generated names and kind names contain nothing JSON would need to escape.
    fmt::memory_buffer out;
    auto it = std::back_inserter(out);
    fmt::format_to(it, "{{\n  \"file\": \"{}\",\n", file_name);
    fmt::format_to(it, "  \"header_lines\": {},\n", manifest.format == FileFormat::kCsv ? 1 : 0);
    fmt::format_to(it, "  \"data_lines\": {},\n", manifest.data_lines);
    fmt::format_to(it, "  \"good_lines\": {},\n", manifest.data_lines - manifest.bad_line_count());
    fmt::format_to(it, "  \"bad_lines\": {},\n", manifest.bad_line_count());
    if (manifest.seed) {
        fmt::format_to(it, "  \"seed\": {},\n", *manifest.seed);
    } else {
        fmt::format_to(it, "  \"seed\": null,\n");
    }
    fmt::format_to(it, "  \"bad_row_fraction\": {},\n", manifest.bad_row_fraction);
    fmt::format_to(it, "  \"bad\": {{\n");
    const std::vector<BadRowKind> kinds = kinds_of(manifest.format);
    for (size_t i = 0; i < kinds.size(); ++i) {
        const size_t kind = static_cast<size_t>(kinds[i]);
        fmt::format_to(it, "    \"{}\": {{\"count\": {}, \"lines\": [{}]}}{}\n",
                       kBadRowKindNames[kind], manifest.bad_lines[kind].size(),
                       fmt::join(manifest.bad_lines[kind], ", "), i + 1 < kinds.size() ? "," : "");
    }
    fmt::format_to(it, "  }}\n}}\n");
    return fmt::to_string(out);
}

}  // namespace eventgen
