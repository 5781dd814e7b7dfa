// RFC 6901 JSON Pointers, as json_columns maps a target column to a value inside each line:
// "/user/id" is the member "id" of the member "user"; "~1" stands for '/' and "~0" for '~' in a
// reference token; an array's item is named by its index in decimal without leading zeros
// ("/tags/0"). "" is the whole line. A pointer that finds nothing (no such member, an index past
// the end, "-", or a step into a scalar) finds nothing: the column counts as missing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/jsonl/json_tree.hpp"

namespace pg_ingest {

class JsonPointer {
  public:
    // Throws std::invalid_argument for text that is not a JSON Pointer, naming the fault.
    explicit JsonPointer(std::string_view text);

    const std::vector<std::string> &tokens() const { return tokens_; }
    // The node the pointer names, from `root`.
    std::optional<uint32_t> resolve(const JsonTree &tree, uint32_t root) const;

  private:
    std::vector<std::string> tokens_;  // unescaped reference tokens
};

}  // namespace pg_ingest
