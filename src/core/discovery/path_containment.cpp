#include "core/discovery/path_containment.hpp"

#include <limits.h>
#include <stdlib.h>

#include <memory>

namespace pg_ingest {

bool path_is_inside(const std::string &path, const std::string &directory) {
    if (directory == "/") return !path.empty() && path.front() == '/';
    return path.compare(0, directory.size(), directory) == 0 &&
           (path.size() == directory.size() || path[directory.size()] == '/');
}

std::optional<std::string> resolve_path(const std::string &path) {
    std::unique_ptr<char, void (*)(void *)> resolved(realpath(path.c_str(), nullptr), free);
    if (!resolved) return std::nullopt;
    return std::string(resolved.get());
}

bool inside_any(const std::string &resolved, const std::vector<std::string> &allowed) {
    for (const std::string &entry : allowed) {
        std::optional<std::string> resolved_entry = resolve_path(entry);
        if (resolved_entry && path_is_inside(resolved, *resolved_entry)) return true;
    }
    return false;
}

}  // namespace pg_ingest
