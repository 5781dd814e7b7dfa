#include "core/csv/text_sniffer.hpp"

#include <algorithm>
#include <cstring>

namespace pg_ingest {

namespace {

struct ByteOrderMark {
    const char *bytes;
    size_t size;
    const char *name;
};

// UTF-32LE first: its mark begins with UTF-16LE's.
constexpr ByteOrderMark kMarks[] = {
    {"\xFF\xFE\x00\x00", 4, "UTF-32LE"},
    {"\x00\x00\xFE\xFF", 4, "UTF-32BE"},
    {"\xFF\xFE", 2, "UTF-16LE"},
    {"\xFE\xFF", 2, "UTF-16BE"},
};

}  // namespace

std::string describe_non_text(const char *head, size_t size) {
    for (const ByteOrderMark &mark : kMarks)
        if (size >= mark.size && std::memcmp(head, mark.bytes, mark.size) == 0)
            return std::string("starts with a ") + mark.name + " byte order mark";
    const size_t looked_at = std::min(size, kTextSniffBytes);
    const size_t nuls = static_cast<size_t>(std::count(head, head + looked_at, '\0'));
    if (looked_at > 0 && nuls * 4 >= looked_at)
        return "has " + std::to_string(nuls) + " NUL bytes in its first " +
               std::to_string(looked_at) + " bytes (UTF-16, UTF-32 or binary)";
    return std::string();
}

}  // namespace pg_ingest
