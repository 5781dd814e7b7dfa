// Whether two file name globs can match one name: the test behind "one file, one source". A glob
// is an fnmatch(3) pattern as a source's `pattern` is matched (FNM_PERIOD, backslash escapes):
// `*`, `?`, bracket expressions with ranges and `!`/`^` negation, and literal characters.
#pragma once

#include <optional>
#include <string>

namespace pg_ingest {

// A file name that both globs match, with no '/' and no leading '.' (the names a source may take);
// nullopt when there is none. The answer holds whether the server's LC_CTYPE reads names as bytes
// (C) or as UTF-8 characters: a name is returned when either reading has one. Bracket
// expressions with a character class ([:alpha:], [=a=], [.a.]) are taken to match any character,
// so such globs may be found to overlap where the locale would keep them apart, never the other
// way round.
std::optional<std::string> common_file_name(const std::string &glob, const std::string &other);

// The glob that matches exactly `literal` (its `*`, `?`, `[` and `\` escaped).
std::string escape_glob(const std::string &literal);

}  // namespace pg_ingest
