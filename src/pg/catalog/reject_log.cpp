#include "pg/catalog/reject_log.hpp"

#include "core/csv/compressed_source.hpp"
#include "pg/support/pg_guard.hpp"
#include "pg/support/prepared_statement.hpp"

extern "C" {
#include <unistd.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
}

namespace pg_ingest {

namespace {

// Longer lines are stored cut, with a note: a reject row must not cost more than the batch.
constexpr int64 kMaxRawLineBytes = 1 << 20;

bool storable_as_text(const char *bytes, size_t length) {
    return memchr(bytes, '\0', length) == nullptr &&
           pg_verify_mbstr(GetDatabaseEncoding(), bytes, static_cast<int>(length), true);
}

// Bytes the database encoding cannot hold become \xNN; ASCII and backslashes stay as they are.
char *escape_bytes(const unsigned char *bytes, size_t length) {
    StringInfoData out;
    initStringInfo(&out);
    for (size_t i = 0; i < length; i++) {
        if (bytes[i] == 0 || bytes[i] >= 0x80)
            appendStringInfo(&out, "\\x%02x", bytes[i]);
        else
            appendStringInfoChar(&out, static_cast<char>(bytes[i]));
    }
    return out.data;
}

}  // namespace

void record_reject(RejectTarget *target, const RejectedSpan &row, const char *message,
                   const char *sqlstate) {
    const int64 start_offset = row.start_offset;
    const int64 end_offset = row.end_offset;
    int64 wanted = Min(end_offset - start_offset, kMaxRawLineBytes);
    char *raw = static_cast<char *>(palloc(wanted + 1));
    ssize_t got;
    if (target->uncompressed != nullptr)
        got = cpp_guard([&] {
            return static_cast<ssize_t>(target->uncompressed->read_at(
                raw, static_cast<size_t>(wanted), static_cast<uint64_t>(start_offset)));
        });
    else
        got = pread(target->fd, raw, wanted, start_offset);
    size_t length = got > 0 ? static_cast<size_t>(got) : 0;
    if (length > 0 && raw[length - 1] == '\n') length--;
    if (length > 0 && raw[length - 1] == '\r') length--;
    raw[length] = '\0';

    StringInfoData error;
    initStringInfo(&error);
    appendStringInfoString(&error, message);
    char *stored = raw;
    if (!storable_as_text(raw, length)) {
        stored = escape_bytes(reinterpret_cast<unsigned char *>(raw), length);
        appendStringInfoString(&error,
                               " (raw_line has bytes the database encoding cannot hold, "
                               "shown as \\xNN)");
    }
    if (end_offset - start_offset > kMaxRawLineBytes)
        appendStringInfo(&error, " (raw_line cut to its first %lld of %lld bytes)",
                         static_cast<long long>(kMaxRawLineBytes),
                         static_cast<long long>(end_offset - start_offset));

    Oid types[9] = {TEXTOID, INT8OID, TEXTOID, INT8OID, INT8OID,
                    TEXTOID, TEXTOID, TEXTOID, INT8OID};
    Datum values[9] = {CStringGetTextDatum(target->source->name),
                       Int64GetDatum(target->file->file_id),
                       CStringGetTextDatum(target->file->file_name),
                       Int64GetDatum(row.line_number),
                       Int64GetDatum(start_offset),
                       CStringGetTextDatum(stored),
                       CStringGetTextDatum(error.data),
                       CStringGetTextDatum(sqlstate),
                       Int64GetDatum(row.last_line)};
    int ret = execute_prepared(
        "INSERT INTO ingest.rejects (source, file_id, file_name, line_number, byte_offset, "
        "raw_line, error, sqlstate, last_line_number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        9, types, values, nullptr, false);
    if (ret != SPI_OK_INSERT) elog(ERROR, "pg_ingest: could not record a rejected line");
    target->count++;
}

}  // namespace pg_ingest
