#include "core/discovery/ready_marker.hpp"

#include <sys/stat.h>

namespace pg_ingest {

bool ReadyMarker::is_marker(std::string_view name) const {
    return enabled() && name.size() > suffix_.size() &&
           name.compare(name.size() - suffix_.size(), suffix_.size(), suffix_) == 0;
}

std::optional<std::string> ReadyMarker::data_name_of(std::string_view name) const {
    if (!is_marker(name)) return std::nullopt;
    return std::string(name.substr(0, name.size() - suffix_.size()));
}

bool ReadyMarker::data_is_ready(const std::string &dir, const std::string &data_name) const {
    if (!enabled()) return true;
    struct stat status;
    return lstat((dir + "/" + marker_of(data_name)).c_str(), &status) == 0 &&
           S_ISREG(status.st_mode);
}

}  // namespace pg_ingest
