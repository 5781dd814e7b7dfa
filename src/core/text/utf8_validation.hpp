// The UTF-8 check PostgreSQL's UTF8 server encoding makes of text input (no NUL byte, no overlong
// form, no surrogate, nothing past U+10FFFF), for the readers that judge a row before COPY does.
#pragma once

#include <cstddef>
#include <string>

namespace pg_ingest {

// Returns the position of the first NUL byte or invalid UTF-8 sequence in `text` (`size` if there
// is none) and sets `bad_length` to how many bytes show the problem.
size_t find_invalid_utf8(const unsigned char *text, size_t size, size_t &bad_length);

// "NUL byte" or "invalid UTF-8 byte sequence 0xc3 0x28": the bad_length bytes at `bytes`, as
// find_invalid_utf8 found them.
std::string describe_invalid_utf8(const unsigned char *bytes, size_t bad_length);

}  // namespace pg_ingest
