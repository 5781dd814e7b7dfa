// Completeness markers: with a marker suffix such as ".done", a data file "x.csv" is complete only
// once "x.csv.done" exists, as batch exporters (and Hadoop's _SUCCESS) signal it. Markers are
// never data, whatever the pattern matches.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pg_ingest {

class ReadyMarker {
  public:
    // An empty suffix: markers are not used and every data file is complete.
    explicit ReadyMarker(std::string suffix) : suffix_(std::move(suffix)) {}

    bool enabled() const { return !suffix_.empty(); }
    // Whether `name` is a marker: it ends with the suffix after at least one character.
    bool is_marker(std::string_view name) const;
    // The data file the marker `name` stands for; nullopt when `name` is not a marker.
    std::optional<std::string> data_name_of(std::string_view name) const;
    // The marker of the data file `data_name`.
    std::string marker_of(const std::string &data_name) const { return data_name + suffix_; }
    // Whether the data file `data_name` in `dir` may be taken: always without markers, otherwise
    // once its marker is a regular file (symbolic links are not followed).
    bool data_is_ready(const std::string &dir, const std::string &data_name) const;

  private:
    std::string suffix_;
};

}  // namespace pg_ingest
