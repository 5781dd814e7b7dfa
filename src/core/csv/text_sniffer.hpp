// Recognises files that are not text in any byte-oriented encoding (UTF-16, UTF-32, binary): no
// declared encoding makes their rows readable, so they fail as a whole instead of line by line.
#pragma once

#include <cstddef>
#include <string>

namespace pg_ingest {

// How many leading bytes of a file describe_non_text looks at.
constexpr size_t kTextSniffBytes = 4096;

// Empty when `head`, the first bytes of a file, may be text in a byte-oriented encoding;
// otherwise why not, worded to follow a file name: "starts with a UTF-16LE byte order mark".
// A quarter or more NUL bytes means UTF-16, UTF-32 or binary; a stray NUL is a bad row instead.
std::string describe_non_text(const char *head, size_t size);

}  // namespace pg_ingest
