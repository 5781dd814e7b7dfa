#include "pg/catalog/file_name_text.hpp"
#include "pg/support/pg_compat.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
}

namespace pg_ingest {

namespace {

bool valid_in_database_encoding(const char *name) {
    return pg_verify_mbstr(GetDatabaseEncoding(), name, static_cast<int>(strlen(name)), true);
}

}  // namespace

char *file_name_text(const char *name) {
    if (valid_in_database_encoding(name)) return const_cast<char *>(name);
    int encoding = GetDatabaseEncoding();
    int remaining = static_cast<int>(strlen(name));
    StringInfoData text;
    initStringInfo(&text);
    const char *at = name;
    while (remaining > 0) {
        int length = IS_HIGHBIT_SET(*at) ? pg_encoding_verifymbchar(encoding, at, remaining) : 1;
        if (length > 0) {
            appendBinaryStringInfo(&text, at, length);
        } else {
            appendStringInfo(&text, "\\x%02x", static_cast<unsigned char>(*at));
            length = 1;
        }
        at += length;
        remaining -= length;
    }
    return text.data;
}

bytea *file_name_bytes(const char *name) {
    if (valid_in_database_encoding(name)) return nullptr;
    size_t length = strlen(name);
    auto *bytes = static_cast<bytea *>(palloc(VARHDRSZ + length));
    SET_VARSIZE(bytes, VARHDRSZ + length);
    memcpy(VARDATA(bytes), name, length);
    return bytes;
}

}  // namespace pg_ingest
