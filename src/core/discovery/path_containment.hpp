// Whether a directory lies inside one of a list of allowed directories, after resolving symbolic
// links: the rule behind pg_ingest.allowed_directories.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pg_ingest {

// Whether `path` is `directory` or lies below it, compared by whole components: "/data2" is not
// inside "/data". Both must be absolute and canonical (no ".", "..", "//" or trailing '/').
bool path_is_inside(const std::string &path, const std::string &directory);

// `path` with every symbolic link, "." and ".." resolved (realpath); nullopt, with errno set,
// when it cannot be resolved (it does not exist, a component is unreadable).
std::optional<std::string> resolve_path(const std::string &path);

// Whether the resolved path `resolved` lies inside one of `allowed`, each resolved first. An
// entry that cannot be resolved (it does not exist) contains nothing.
bool inside_any(const std::string &resolved, const std::vector<std::string> &allowed);

}  // namespace pg_ingest
