#include "pg/catalog/file_chunks.hpp"

#include "pg/catalog/file_claim.hpp"
#include "pg/support/prepared_statement.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
}

namespace pg_ingest {

namespace {

Datum column(int number, bool *isnull, uint64 row = 0) {
    return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, number, isnull);
}

Datum bigint_array(const int64 *values, int count) {
    auto *elements = static_cast<Datum *>(palloc(sizeof(Datum) * (count > 0 ? count : 1)));
    for (int i = 0; i < count; i++) elements[i] = Int64GetDatum(values[i]);
    return PointerGetDatum(
        construct_array(elements, count, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

// Reads the claimed chunk anew: another worker may have finished it since it was listed.
bool read_claimed_chunk(int64 chunk_id, FileRow *row) {
    Oid types[1] = {INT8OID};
    Datum values[1] = {Int64GetDatum(chunk_id)};
    int ret = execute_prepared(
        "SELECT chunk_no, end_offset, byte_offset, line_number FROM ingest.file_chunks "
        "WHERE chunk_id = $1 AND status <> 'done'",
        1, types, values, nullptr, false);
    check_spi_result(ret, SPI_OK_SELECT, "read ingest.file_chunks");
    if (SPI_processed == 0) return false;
    bool isnull;
    row->chunk =
        FileChunk{chunk_id, DatumGetInt32(column(1, &isnull)), DatumGetInt64(column(2, &isnull))};
    row->byte_offset = DatumGetInt64(column(3, &isnull));
    row->line_number = DatumGetInt64(column(4, &isnull));
    // The checksum was settled when the chunks were planned.
    row->loading = true;
    return true;
}

// The file's share of a chunk's commit: its counts and committed bytes, and, first of all, the
// lock on its row (see file_chunks.hpp). The chunk's old position is its own row's: only this
// worker writes it.
void add_chunk_progress(const FileRow *row, int64 byte_offset, int64 line_number, int64 loaded,
                        int64 rejected) {
    Oid types[6] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, TEXTARRAYOID};
    Datum values[6] = {Int64GetDatum(row->chunk.chunk_id),
                       Int64GetDatum(byte_offset),
                       Int64GetDatum(line_number),
                       Int64GetDatum(loaded),
                       Int64GetDatum(rejected),
                       open_statuses()};
    execute_prepared_checked(
        "UPDATE ingest.files f SET status = 'loading', "
        "  byte_offset = f.byte_offset + ($2 - c.byte_offset), "
        "  line_number = greatest(f.line_number, $3), rows_loaded = f.rows_loaded + $4, "
        "  rows_rejected = f.rows_rejected + $5 "
        "FROM ingest.file_chunks c "
        "WHERE c.chunk_id = $1 AND f.file_id = c.file_id AND f.status = ANY ($6)",
        6, types, values, nullptr, SPI_OK_UPDATE);
    if (SPI_processed != 1)
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("file \"%s\" was skipped while it was being loaded", row->file_name)));
}

void update_chunk(const FileRow *row, int64 byte_offset, int64 line_number, int64 loaded,
                  int64 rejected, bool ends_chunk) {
    Oid types[6] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, BOOLOID};
    Datum values[6] = {Int64GetDatum(row->chunk.chunk_id),
                       Int64GetDatum(byte_offset),
                       Int64GetDatum(line_number),
                       Int64GetDatum(loaded),
                       Int64GetDatum(rejected),
                       BoolGetDatum(ends_chunk)};
    execute_prepared_checked(
        "UPDATE ingest.file_chunks SET byte_offset = $2, line_number = $3, "
        "  rows_loaded = rows_loaded + $4, rows_rejected = rows_rejected + $5, "
        "  status = CASE WHEN $6 THEN 'done' ELSE 'loading' END "
        "WHERE chunk_id = $1",
        6, types, values, nullptr, SPI_OK_UPDATE);
}

}  // namespace

int64 record_chunks(const FileRow *file, const ChunkCut *cuts, int count) {
    auto *starts = static_cast<int64 *>(palloc(sizeof(int64) * (count + 1)));
    auto *ends = static_cast<int64 *>(palloc(sizeof(int64) * (count + 1)));
    auto *lines = static_cast<int64 *>(palloc(sizeof(int64) * (count + 1)));
    starts[0] = 0;
    lines[0] = 1;
    for (int i = 0; i < count; i++) {
        ends[i] = cuts[i].offset;
        starts[i + 1] = cuts[i].offset;
        lines[i + 1] = cuts[i].line;
    }
    ends[count] = file->size;
    Oid types[4] = {INT8OID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID};
    Datum values[4] = {Int64GetDatum(file->file_id), bigint_array(starts, count + 1),
                       bigint_array(ends, count + 1), bigint_array(lines, count + 1)};
    int ret = execute_prepared(
        "WITH planned AS (INSERT INTO ingest.file_chunks (file_id, chunk_no, start_offset, "
        "  end_offset, start_line, byte_offset, line_number) "
        "  SELECT $1, n - 1, s, e, l, s, l - 1 "
        "  FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS c (s, e, l, n) "
        "  RETURNING chunk_id, chunk_no) "
        "SELECT chunk_id FROM planned WHERE chunk_no = 0",
        4, types, values, nullptr, false);
    check_spi_result(ret, SPI_OK_SELECT, "record the chunks of a file");
    bool isnull;
    int64 first = DatumGetInt64(column(1, &isnull));

    Oid file_types[3] = {INT8OID, TEXTARRAYOID, BYTEAOID};
    Datum file_values[3] = {Int64GetDatum(file->file_id), open_statuses(),
                            PointerGetDatum(file->content_sha256)};
    execute_prepared_checked(
        "UPDATE ingest.files SET status = 'loading', "
        "  started_at = coalesce(started_at, pg_catalog.now()), "
        "  content_sha256 = coalesce($3, content_sha256) "
        "WHERE file_id = $1 AND status = ANY ($2)",
        3, file_types, file_values, file->content_sha256 == nullptr ? "  n" : nullptr,
        SPI_OK_UPDATE);
    if (SPI_processed != 1)
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("file \"%s\" was skipped while it was being loaded", file->file_name)));
    return first;
}

bool claim_next_chunk(FileRow *row) {
    Oid types[1] = {INT8OID};
    Datum values[1] = {Int64GetDatum(row->file_id)};
    int ret = execute_prepared(
        "SELECT chunk_id FROM ingest.file_chunks WHERE file_id = $1 AND status <> 'done' "
        "ORDER BY chunk_no",
        1, types, values, nullptr, false);
    check_spi_result(ret, SPI_OK_SELECT, "read ingest.file_chunks");
    int count = static_cast<int>(SPI_processed);
    auto *ids = static_cast<int64 *>(palloc(sizeof(int64) * (count > 0 ? count : 1)));
    bool isnull;
    for (int i = 0; i < count; i++) ids[i] = DatumGetInt64(column(1, &isnull, i));
    for (int i = 0; i < count; i++) {
        if (!claim_chunk(ids[i])) continue;
        if (read_claimed_chunk(ids[i], row)) return true;
        release_chunk_claim(ids[i]);
    }
    return false;
}

bool record_chunk_batch(const FileRow *row, int64 byte_offset, int64 line_number, int64 loaded,
                        int64 rejected, bool ends_chunk) {
    add_chunk_progress(row, byte_offset, line_number, loaded, rejected);
    update_chunk(row, byte_offset, line_number, loaded, rejected, ends_chunk);
    return ends_chunk && finish_split_file(row->file_id);
}

// At the end of a chunk read row by row: its last batch committed its position already.
bool finish_chunk(const FileRow *row) {
    Oid types[2] = {INT8OID, TEXTARRAYOID};
    Datum values[2] = {Int64GetDatum(row->file_id), open_statuses()};
    int ret = execute_prepared(
        "SELECT 1 FROM ingest.files WHERE file_id = $1 AND status = ANY ($2) FOR UPDATE", 2, types,
        values, nullptr, false);
    check_spi_result(ret, SPI_OK_SELECT, "lock a file of ingest.files");
    if (SPI_processed != 1)
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("file \"%s\" was skipped while it was being loaded", row->file_name)));
    Oid chunk_types[1] = {INT8OID};
    Datum chunk_values[1] = {Int64GetDatum(row->chunk.chunk_id)};
    execute_prepared_checked("UPDATE ingest.file_chunks SET status = 'done' WHERE chunk_id = $1", 1,
                             chunk_types, chunk_values, nullptr, SPI_OK_UPDATE);
    return finish_split_file(row->file_id);
}

}  // namespace pg_ingest
