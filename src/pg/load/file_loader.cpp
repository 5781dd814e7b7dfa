#include "pg/load/file_loader.hpp"

#include "pg/insert/batch_inserter.hpp"
#include "core/csv/compressed_source.hpp"
#include "pg/load/chunk_planning.hpp"
#include "pg/load/content_checksum.hpp"
#include "pg/insert/copy_inserter.hpp"
#include "pg/load/data_file.hpp"
#include "pg/load/file_change.hpp"
#include "pg/catalog/file_chunks.hpp"
#include "pg/catalog/file_claim.hpp"
#include "pg/load/file_reading.hpp"
#include "pg/catalog/file_replay.hpp"
#include "pg/catalog/reject_log.hpp"
#include "pg/worker/source_metrics.hpp"
#include "pg/support/subtransaction.hpp"
#include "pg/insert/target_cache.hpp"
#include "pg/load/text_check.hpp"
#include "pg/support/time_convert.hpp"
#include "pg/load/on_success.hpp"
#include "pg/load/rotated_file.hpp"
#include "pg/load/schema_drift.hpp"
#include "pg/access/owner_check.hpp"
#include "pg/worker/shared_state.hpp"
#include "pg/worker/worker_progress.hpp"
#include "pg/support/worker_transaction.hpp"

extern "C" {
#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace pg_ingest {

namespace {

// What this load added to the file's counts.
struct FileLoadResult {
    int64 rows_loaded;
    int64 rows_rejected;
};

// What one commit of the load did.
enum class CommitOutcome {
    committed,      // rows and the file's new position
    finished_file,  // the same, and the file marked done
    owner_refused,  // nothing written: the owner may no longer insert (the source fails next)
    copy_refused,   // nothing written: COPY refused the span, which is then read row by row
    truncated,      // nothing written: tail mode, the file was truncated below its offset
};

struct Commit {
    CommitOutcome outcome;
    int64 rows;         // loaded and rejected
    uint64 end_offset;  // where the committed input ends
    uint64 next_line;
};

constexpr Commit kOwnerRefused = {CommitOutcome::owner_refused, 0, 0, 0};
constexpr Commit kCopyRefused = {CommitOutcome::copy_refused, 0, 0, 0};
constexpr Commit kTruncated = {CommitOutcome::truncated, 0, 0, 0};

// How a load ended, short of an ERROR.
enum class LoadOutcome {
    read_to_end,    // every row committed: the file (or the chunk) is to be marked done
    finished_file,  // the last commit marked the file (or the chunk) done
    duplicate,      // settled as a duplicate of a done file, nothing loaded
    owner_refused,  // stopped where it stands: the source fails on the worker's next round
    truncated,      // tail mode: truncated below its committed offset, the version ends
};

// The file being loaded. Static because an ERROR longjmps out of load_file: the worker's
// handler then calls abandon_file_load(), which must still find the descriptors to close, and
// current_load_line(), which names the line in the file's error.
struct FileLoad {
    const SourceDefinition *source = nullptr;
    FileRow file = {};  // as requested, or counted from zero for a replay
    WorkerSlot *slot = nullptr;
    char *path = nullptr;   // the exact name in the directory
    char *shown = nullptr;  // as the catalog shows it, for messages
    int fd = -1;
    int joining_fd = -1;  // a file about to join the batch of a small file (see commit_group)
    // A compressed file is not text, and the COPY path needs the file's own bytes: its rows are
    // read through the decompressor and loaded row by row.
    bool compressed = false;
    // A replay loads the whole file in one transaction: the batches do not commit their own.
    bool replaying = false;
    // The file was in a shared batch COPY refused: it loads on its own (see load_alone).
    bool alone = false;
    char **header = nullptr;  // nullptr without a header, or for an empty file
    int header_count = 0;
    bool empty = false;       // with option header: the file has not even a header line
    uint64 start_offset = 0;  // where this load's first data row starts
    uint64 start_line = 0;
    BatchInserter *inserter = nullptr;
    CopyInserter *copier = nullptr;  // nullptr: every batch row by row
    // The scanner is handed what COPY reads (stream_next_span) rather than reading the file.
    bool fenced = false;
    bool first_commit = true;  // nothing committed yet: only a first span may share a batch
    // The line at which loading stands: the first one not yet committed, or 0 before the start.
    int64 line = 0;
    int64 committed = 0;  // the offset up to which the load's rows are committed
    int64 end_line = 0;   // at the end of the input: the line after the last one read
    FileLoadResult result = {0, 0};
    bool file_done = false;  // this load's last commit marked the file done (a chunk's: the last)
    instr_time started = {};
    ErrorContextCallback callback = {};
};

FileLoad load;

// The memory of a load, created once per worker: the file's (paths, header, joined files) is
// reset as the load ends, the batch's (parsed rows) after each batch.
struct LoadMemory {
    MemoryContext file = nullptr;
    MemoryContext batch = nullptr;
};

LoadMemory memory;

void describe_load(void *arg) {
    auto *context = static_cast<FileLoad *>(arg);
    errcontext("pg_ingest source \"%s\", file \"%s\", line %lld", context->source->name,
               context->file.file_name, static_cast<long long>(context->line));
}

void on_reject(const PendingRow *row, const char *message, const char *sqlstate, void *context) {
    record_reject(static_cast<RejectTarget *>(context),
                  {row->line_number, row->last_line, row->start_offset, row->end_offset}, message,
                  sqlstate);
}

void note_progress(WorkerSlot *slot, const FileRow *file, int64 offset, int64 rows) {
    report_progress(slot,
                    WorkerProgress{WorkerState::loading, file->file_name, offset, rows, nullptr});
}

// Tail mode, in the transaction that marks the file done: the bytes after its last line
// terminator, which wait for one, are named in its error.
void note_tail(const FileRow *file) {
    if (file->tailing) note_waiting_bytes(file->file_id);
}

// Before a file's first row: computes the content's checksum (kept in file->content_sha256 for
// the file's first catalog update) and, with dedupe, settles the file as a duplicate of a done
// file with the same content. Returns that file's name, or nullptr when the file is to be loaded.
char *settle_content(const SourceDefinition *source, FileRow *file, int fd, const char *shown) {
    if (file->loading) return nullptr;
    // A replay is not a duplicate: the file's own content was loaded before, or, for a new
    // version of its name that on_file_change = replace loads in place of the earlier ones, is
    // to be loaded whatever it is. Its checksum is taken when the catalog has none.
    if (file->replay && file->known_sha256 != nullptr) return nullptr;
    MemoryContext outside = MemoryContextSwitchTo(memory.file);
    file->content_sha256 = file_sha256(fd, shown, file->file_name, file->size, file->tailing);
    MemoryContextSwitchTo(outside);
    if (file->replay) return nullptr;
    char *original = find_duplicate(source, file, file->content_sha256);
    return original == nullptr ? nullptr : MemoryContextStrdup(memory.file, original);
}

// A lost asynchronous commit loses a batch's rows and its offset together, so a crash just replays
// the batch; not when another server (a foreign table's, a Citus node) committed its rows.
CommitDurability batch_durability(const BatchInserter *inserter) {
    return inserter->commits_on_other_servers ? CommitDurability::Synchronous
                                              : CommitDurability::Asynchronous;
}

void begin_batch_transaction(CommitDurability durability) {
    if (!load.replaying) begin_worker_transaction(durability);
}

void commit_batch_transaction() {
    if (!load.replaying) commit_worker_transaction();
}

// The batch's rows that parsed with the header's field count go to `pending`; the others are
// rejected. Returns how many are pending.
int take_parsed_rows(const CsvBatch &batch, int field_count, PendingRow *pending,
                     RejectTarget *rejects) {
    int good = 0;
    for (const CsvRow &row : batch.rows) {
        const RejectedSpan span = {
            static_cast<int64>(row.line_number), static_cast<int64>(row.last_line),
            static_cast<int64>(row.start_offset), static_cast<int64>(row.end_offset)};
        if (!row.error.empty()) {
            record_reject(rejects, span, row.error.c_str(), kUnparsableLineSqlstate);
        } else if (row.field_count == 0) {
            record_reject(rejects, span, "blank line", kUnparsableLineSqlstate);
        } else if (static_cast<int>(row.field_count) != field_count) {
            char message[128];
            snprintf(message, sizeof message, "expected %d fields, found %u", field_count,
                     row.field_count);
            record_reject(rejects, span, message, kUnparsableLineSqlstate);
        } else {
            pending[good++] = {batch.row_fields(row), span.line_number, span.last_line,
                               span.start_offset, span.end_offset};
        }
    }
    return good;
}

// One micro-batch read by CsvReader: parse errors and the target's refusals go to ingest.rejects,
// the rest into the target, and the file's new position into ingest.files, all in one transaction.
Commit commit_batch() {
    const SourceDefinition *source = load.source;
    const FileRow *file = &load.file;
    BatchInserter *inserter = load.inserter;
    int fd = load.fd;
    FileLoadResult *result = &load.result;
    const CsvBatch &batch = read_rows();
    begin_batch_transaction(batch_durability(inserter));
    // A replay checked the owner when it began: its one transaction is not to be cut short.
    if (!load.replaying && owner_refusal(source) != nullptr) {
        commit_worker_transaction();
        return kOwnerRefused;
    }
    MemoryContext outside = MemoryContextSwitchTo(memory.batch);

    RejectTarget rejects = {source, file, fd, uncompressed_lines(), 0};
    auto *pending = static_cast<PendingRow *>(palloc(sizeof(PendingRow) * batch.rows.size()));
    int good = take_parsed_rows(batch, inserter->field_count, pending, &rejects);
    load.line = static_cast<int64>(batch.rows.front().line_number);
    int64 loaded = insert_rows(inserter, pending, good, on_reject, &rejects);
    int64 file_rejects = file->rows_rejected + result->rows_rejected + rejects.count;
    if (source->limits_rejects && file_rejects > source->max_rejects_per_file)
        ereport(ERROR,
                (errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
                 errmsg("file \"%s\" has more than %lld rejected lines (max_rejects_per_file)",
                        file->file_name, static_cast<long long>(source->max_rejects_per_file))));
    const CsvRow &last = batch.rows.back();
    record_batch(file, static_cast<int64>(last.end_offset), static_cast<int64>(last.last_line),
                 loaded, rejects.count);

    commit_batch_transaction();
    note_batch_committed(loaded, rejects.count, static_cast<int64>(last.end_offset));
    // A replay's transaction goes on, in the memory it had.
    if (load.replaying) MemoryContextSwitchTo(outside);
    MemoryContextReset(memory.batch);
    result->rows_loaded += loaded;
    result->rows_rejected += rejects.count;
    elog(DEBUG1,
         "pg_ingest source \"%s\": file \"%s\": committed lines %lld to %lld, %lld rows, %lld "
         "rejected, offset %llu",
         source->name, file->file_name, static_cast<long long>(batch.rows.front().line_number),
         static_cast<long long>(batch.rows.back().line_number), static_cast<long long>(loaded),
         static_cast<long long>(rejects.count),
         static_cast<unsigned long long>(batch.rows.back().end_offset));
    return {CommitOutcome::committed, loaded + rejects.count, last.end_offset, last.end_line};
}

// Marking a file done commits synchronously when on_success acts on the file next, whatever the
// server's synchronous_commit; otherwise a lost commit just has the file finished again.
CommitDurability finish_durability(const SourceDefinition *source) {
    return source->on_success == OnSuccess::Keep ? CommitDurability::Asynchronous
                                                 : CommitDurability::Synchronous;
}

// Begins the transaction of a COPY span: synchronous into foreign or Citus tables, or when the span
// finishes its file and on_success acts on the file next. False (the transaction is over,
// nothing written) when the owner may no longer insert.
bool begin_span_transaction(const SourceDefinition *source, const BatchInserter *inserter,
                            bool finishes) {
    bool synchronous = batch_durability(inserter) == CommitDurability::Synchronous ||
                       (finishes && finish_durability(source) == CommitDurability::Synchronous);
    begin_worker_transaction(synchronous ? CommitDurability::Synchronous
                                         : CommitDurability::Asynchronous);
    if (owner_refusal(source) == nullptr) return true;
    commit_worker_transaction();
    return false;
}

// Once COPY stored the span's rows: the file's new position, marked done when the span
// `finishes` it, commits with them.
Commit commit_copied_span(const CsvSpan &span, bool finishes) {
    const SourceDefinition *source = load.source;
    const FileRow *file = &load.file;
    int64 rows = static_cast<int64>(span.rows);
    load.file_done = record_batch(file, static_cast<int64>(span.end_offset),
                                  static_cast<int64>(span.last_line), rows, 0, finishes);
    if (load.file_done) note_tail(file);
    commit_worker_transaction();
    note_batch_committed(rows, 0, static_cast<int64>(span.end_offset));
    note_copy_batch(load.copier->path);
    if (load.file_done) note_file_done();
    load.result.rows_loaded += rows;
    elog(DEBUG1,
         "pg_ingest source \"%s\": file \"%s\": copied lines %llu to %llu, %lld rows, offset "
         "%llu, by %s",
         source->name, file->file_name, static_cast<unsigned long long>(span.start_line),
         static_cast<unsigned long long>(span.last_line), static_cast<long long>(rows),
         static_cast<unsigned long long>(span.end_offset), copy_path_name(load.copier->path));
    return {finishes ? CommitOutcome::finished_file : CommitOutcome::committed, rows,
            span.end_offset, span.end_line};
}

// A plain span through COPY in one transaction with the file's new position, and with the file
// marked done when the span `finishes` it.
Commit commit_span(const CsvSpan &span, bool finishes) {
    if (!begin_span_transaction(load.source, load.inserter, finishes)) return kOwnerRefused;
    load.line = static_cast<int64>(span.start_line);
    if (!copy_span(load.copier, load.fd, span.start_offset, span.end_offset, span.rows)) {
        commit_worker_transaction();
        return kCopyRefused;
    }
    return commit_copied_span(span, finishes);
}

// The next span streamed into COPY: the scanner is handed each buffer COPY reads and ends the
// span in it, after batch_size rows or 8 MB, so the span's text is read from the file once. What
// the span holds is known once COPY has read it: the file's new position, and whether the span
// finishes the file (then the commit waits for its flush when on_success acts on the file next).
Commit stream_next_span() {
    const SourceDefinition *source = load.source;
    if (check_file_identity(load.fd, &load.file, load.committed) == VersionCheck::truncated)
        return kTruncated;
    load.first_commit = false;
    if (!begin_span_transaction(source, load.inserter, false)) return kOwnerRefused;
    const ReadFence *fence = begin_fenced_span(source->batch_size);
    const uint64 start = fenced_span().start_offset;
    const auto end = static_cast<uint64>(load_end_offset(&load.file));
    load.line = static_cast<int64>(fenced_span().start_line);
    if (!copy_fenced_span(load.copier, load.fd, start, end, fence)) {
        commit_worker_transaction();
        return kCopyRefused;
    }
    const CsvSpan span = fenced_span();
    bool finishes = span.at_end && span.end_offset == end;
    if (finishes && finish_durability(source) == CommitDurability::Synchronous)
        require_synchronous_commit();
    return commit_copied_span(span, finishes);
}

// Marks the file (or the chunk) done; a replay commits its one transaction with it.
void finish(const SourceDefinition *source, const FileRow *file) {
    begin_batch_transaction(finish_durability(source));
    // In tail mode the offset is where the lines end, after the header for a file without rows.
    bool whole_tail = file->tailing && file->chunk.chunk_id == 0 && !load.empty;
    load.file_done = whole_tail
                         ? record_batch(file, load_end_offset(file), load.end_line - 1, 0, 0, true)
                         : finish_file(file);
    if (load.file_done) note_tail(file);
    commit_worker_transaction();
    if (load.file_done) note_file_done();
}

// Small files share a batch. When a file is whole in its first plain span, the open files that
// follow it in the source's order join its COPY and its transaction while each is whole in one
// plain span with the same header and the batch has room (batch_size rows, 8 MB,
// kMaxFileClaims files): one COPY and one commit for many files instead of three transactions
// and a COPY each. A file that cannot join is given back to the next round; a batch that COPY
// refuses is undone, and its files then load one by one (row by row where COPY refuses them).
struct JoinedFile {
    FileRow row;
    char *path;
    char *shown;
    uint64 rows;
    uint64 end_offset;
    char *original;  // the done file this one duplicates (nothing staged), or nullptr
};

struct SharedBatch {
    const SourceDefinition *source;
    const BatchInserter *inserter;
    char **header;  // nullptr without a header
    int header_count;
    const FileRow *last;  // the batch's last file so far
    uint64 staged;        // bytes in the staging file
    uint64 rows;
    int count;  // joined files
    JoinedFile *joined;
    bool full;  // no more files join
};

// The files of a batch COPY refused: each loads alone, so that the one COPY refuses is found.
// Plain data kept across loads (the next loads are these files'), no C++ object.
int64 load_alone[kMaxFileClaims];
int load_alone_count = 0;

bool loads_alone(const FileRow *file) {
    for (int i = 0; i < load_alone_count; i++)
        if (load_alone[i] == file->file_id) return true;
    return false;
}

// A file of the list, as its own load begins, leaves it: once loaded alone it may share a batch
// again (after retry_file), and the list empties as its files are loaded.
bool take_load_alone(const FileRow *file) {
    for (int i = 0; i < load_alone_count; i++) {
        if (load_alone[i] != file->file_id) continue;
        load_alone[i] = load_alone[--load_alone_count];
        return true;
    }
    return false;
}

void close_joining_file() {
    if (load.joining_fd >= 0) close(load.joining_fd);
    load.joining_fd = -1;
}

bool same_header(const SharedBatch *batch, char **names, int count) {
    if (batch->header == nullptr) return names == nullptr;
    if (names == nullptr || count != batch->header_count) return false;
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], batch->header[i]) != 0) return false;
    return true;
}

// The file stays open for the next round (or another worker); searching resumes after the
// batch's last file, so that it is found again first.
bool give_back(SharedBatch *batch, const FileRow *file) {
    close_joining_file();
    release_open_file(file);
    resume_open_file_search_after(batch->last);
    batch->full = true;
    return false;
}

// In a subtransaction: the next open file joins the batch (true), or it is given back and the
// batch is full (false: the subtransaction is rolled back). Its rows are staged after the
// batch's and it is recorded done, or as a duplicate.
bool join_next_file(void *arg) {
    auto *batch = static_cast<SharedBatch *>(arg);
    const SourceDefinition *source = batch->source;
    JoinedFile *joining = &batch->joined[batch->count];
    FileRow *file = &joining->row;
    file->file_id = -1;
    if (!next_open_file_of_batch(source, memory.file, file)) {
        batch->full = true;
        return false;
    }
    if (file->loading || file->replay || loads_alone(file) ||
        compression_of(file->disk_name) != Compression::kNone ||
        static_cast<uint64>(file->size) > kMaxBatchBytes - batch->staged)
        return give_back(batch, file);
    joining->path =
        MemoryContextStrdup(memory.file, psprintf("%s/%s", source->directory, file->disk_name));
    joining->shown =
        MemoryContextStrdup(memory.file, psprintf("%s/%s", source->directory, file->file_name));
    int fd = open_data_file(joining->path, joining->shown, file, &load.joining_fd);
    // Its new size is to be recorded before its rows: it loads on its own.
    if (file->adopted) return give_back(batch, file);
    check_file_is_text(source, file, fd);
    // In tail mode a file joins only when it ends with a line terminator: its last line is whole.
    if (source->on_file_change == FileChangeMode::append &&
        complete_lines_end(source, file, fd, 0) != file->size)
        return give_back(batch, file);
    uint64_t offset = 0, line = 1;
    if (source->header) {
        int count = 0;
        char **names = read_header(source, file, fd, memory.file, &count, &offset, &line);
        if (!same_header(batch, names, count)) return give_back(batch, file);
    }
    start_scanner(source, file, fd, batch->inserter->field_count, offset, line);
    CsvSpan span = scan_span(source->batch_size - static_cast<int>(batch->rows));
    if (span.irregular || span.rows == 0 || !span.at_end ||
        static_cast<int64>(span.end_offset) != file->size)
        return give_back(batch, file);
    check_file_identity(fd, file, 0);
    joining->original = settle_content(source, file, fd, joining->shown);
    joining->rows = joining->original == nullptr ? span.rows : 0;
    joining->end_offset = span.end_offset;
    if (joining->original == nullptr) {
        stage_span(fd, span.start_offset, span.end_offset, batch->staged);
        record_batch(file, static_cast<int64>(span.end_offset), static_cast<int64>(span.last_line),
                     static_cast<int64>(span.rows), 0, true);
        batch->staged += span.end_offset - span.start_offset;
        batch->rows += span.rows;
    }
    close_joining_file();
    batch->last = file;
    batch->count++;
    return true;
}

// Once the batch committed: what commit_span does for its first file, for each joined one.
void announce_joined(const SharedBatch *batch, const char *first_name, double ms) {
    const SourceDefinition *source = batch->source;
    for (int i = 0; i < batch->count; i++) {
        const JoinedFile *joined = &batch->joined[i];
        if (joined->original != nullptr) {
            ereport(LOG, (errmsg("pg_ingest source \"%s\": file \"%s\" is a duplicate of \"%s\", "
                                 "not loaded",
                                 source->name, joined->row.file_name, joined->original)));
        } else {
            note_file_joined_batch(static_cast<int64>(joined->rows),
                                   static_cast<int64>(joined->end_offset));
            ereport(LOG, (errmsg("pg_ingest source \"%s\": loaded file \"%s\": %llu rows, 0 "
                                 "rejected, in the batch of \"%s\", %.0f ms",
                                 source->name, joined->row.file_name,
                                 static_cast<unsigned long long>(joined->rows), first_name, ms)));
            apply_on_success(source, joined->path, joined->shown, &joined->row);
        }
        release_file_claim(joined->row.file_id);
    }
}

// Joins open files to the batch while it has room; a file that fails to join (it vanished, it
// is not text) just ends the batch and is left to the next round, which reports what is wrong.
void gather_joining_files(SharedBatch *batch) {
    const SourceDefinition *source = batch->source;
    forget_open_file_page();  // one an ERROR left behind
    while (!batch->full && batch->count < kMaxFileClaims - 1 &&
           batch->rows < static_cast<uint64>(source->batch_size) &&
           batch->staged < kMaxBatchBytes) {
        CHECK_FOR_INTERRUPTS();
        ErrorData *error = run_in_subtransaction(join_next_file, batch);
        if (error == nullptr) continue;
        const FileRow *refused = &batch->joined[batch->count].row;
        elog(DEBUG1, "pg_ingest source \"%s\": file \"%s\" did not join a batch: %s", source->name,
             refused->file_id >= 0 ? refused->file_name : "?", error->message);
        FreeErrorData(error);
        if (refused->file_id >= 0) give_back(batch, refused);
        close_joining_file();
        batch->full = true;
    }
    forget_open_file_page();
}

// COPY refused the shared batch: nothing of it is written, and its files load alone.
void undo_shared_batch(const SharedBatch *batch) {
    AbortCurrentTransaction();
    load_alone_count = 0;
    for (int i = 0; i < batch->count; i++) {
        load_alone[load_alone_count++] = batch->joined[i].row.file_id;
        release_file_claim(batch->joined[i].row.file_id);
    }
    resume_open_file_search_after(&load.file);
}

// commit_span for a first span that ends its file, with the files that join it. When COPY
// refuses the batch, the first file goes on as after a refused span.
Commit commit_group(const CsvSpan &span) {
    const SourceDefinition *source = load.source;
    const FileRow *file = &load.file;
    instr_time started;
    INSTR_TIME_SET_CURRENT(started);
    if (!begin_span_transaction(source, load.inserter, true)) return kOwnerRefused;
    load.line = static_cast<int64>(span.start_line);
    stage_span(load.fd, span.start_offset, span.end_offset, 0);
    record_batch(file, static_cast<int64>(span.end_offset), static_cast<int64>(span.last_line),
                 static_cast<int64>(span.rows), 0, true);
    note_tail(file);
    auto *joined = static_cast<JoinedFile *>(
        MemoryContextAlloc(memory.file, sizeof(JoinedFile) * kMaxFileClaims));
    SharedBatch batch = {source,      load.inserter,
                         load.header, load.header_count,
                         file,        span.end_offset - span.start_offset,
                         span.rows,   0,
                         joined,      false};
    gather_joining_files(&batch);
    if (!copy_staged(load.copier, batch.staged, batch.rows)) {
        undo_shared_batch(&batch);
        return kCopyRefused;
    }
    commit_worker_transaction();
    load.file_done = true;
    note_batch_committed(static_cast<int64>(span.rows), 0, static_cast<int64>(span.end_offset));
    note_copy_batch(load.copier->path);
    note_file_done();
    load.result.rows_loaded += static_cast<int64>(span.rows);
    announce_joined(&batch, file->file_name, elapsed_ms(started));
    elog(DEBUG1,
         "pg_ingest source \"%s\": file \"%s\": copied lines %llu to %llu, %llu rows, with %d "
         "more files, %llu rows in all, by %s",
         source->name, file->file_name, static_cast<unsigned long long>(span.start_line),
         static_cast<unsigned long long>(span.last_line),
         static_cast<unsigned long long>(span.rows), batch.count,
         static_cast<unsigned long long>(batch.rows), copy_path_name(load.copier->path));
    return {CommitOutcome::finished_file, static_cast<int64>(span.rows), span.end_offset,
            span.end_line};
}

// A replay starts its one transaction by undoing the earlier load: the file is then loaded from
// its start, counted from zero. It commits synchronously, whatever on_success: it replaces rows.
// False (nothing done) when the owner may no longer insert.
bool begin_replay(const SourceDefinition *source, const FileRow *file) {
    begin_worker_transaction(CommitDurability::Synchronous);
    if (owner_refusal(source) != nullptr) {
        commit_worker_transaction();
        return false;
    }
    forget_earlier_load(source, file);
    return true;
}

FileRow replay_start(const FileRow *file) {
    FileRow row = *file;
    row.loading = false;
    row.byte_offset = 0;
    row.line_number = 0;
    row.rows_loaded = 0;
    row.rows_rejected = 0;
    return row;
}

// Where the file is: its name, or in tail mode wherever its inode now is (rotated by rename).
char *data_path(const SourceDefinition *source, const FileRow *file) {
    char *name = file->tailing ? name_holding_inode(source->directory, file->disk_name, file->inode)
                               : nullptr;
    return psprintf("%s/%s", source->directory, name != nullptr ? name : file->disk_name);
}

// The load's start: the file opened and checked (its identity, that it is text), its memory and
// error context set up. A replay from the start of the file is counted from zero.
void begin_load(const SourceDefinition *source, const FileRow *requested, WorkerSlot *slot) {
    if (memory.file == nullptr) {
        memory.batch =
            AllocSetContextCreate(TopMemoryContext, "pg_ingest batch", ALLOCSET_DEFAULT_SIZES);
        memory.file =
            AllocSetContextCreate(TopMemoryContext, "pg_ingest file", ALLOCSET_DEFAULT_SIZES);
    }
    load = FileLoad{};
    forget_raised_change();
    load.source = source;
    load.file = requested->replay ? replay_start(requested) : *requested;
    load.slot = slot;
    const FileRow *file = &load.file;
    load.replaying = file->replay;
    load.alone = take_load_alone(file);
    load.line = file->line_number > 0 ? file->line_number + 1 : 0;
    load.committed = file->byte_offset;
    load.callback = {error_context_stack, describe_load, &load};
    error_context_stack = &load.callback;

    note_file_started(file->byte_offset);
    // The slot says "loading" from the file's start, not only once its first batch commits.
    note_progress(slot, file, file->byte_offset, 0);
    INSTR_TIME_SET_CURRENT(load.started);
    load.compressed = compression_of(file->disk_name) != Compression::kNone;
    // A compressed file cannot be tailed: it changes as a whole, so a change fails it.
    load.file.tailing =
        source->on_file_change == FileChangeMode::append && !load.compressed && !load.replaying;
    load.path = MemoryContextStrdup(memory.file, data_path(source, file));
    load.shown =
        MemoryContextStrdup(memory.file, psprintf("%s/%s", source->directory, file->file_name));
    open_data_file(load.path, load.shown, &load.file, &load.fd);
    if (!load.compressed) check_file_is_text(source, file, load.fd);
    if (load.file.tailing && !load.file.truncated) {
        load.file.lines_end = load.file.size;  // for the line end, read from the file's start
        load.file.lines_end = complete_lines_end(source, file, load.fd, file->byte_offset);
    }
}

// Where this load's first data row starts: the committed position, or after the header.
void locate_first_row() {
    const SourceDefinition *source = load.source;
    load.start_offset = static_cast<uint64>(load.file.byte_offset);
    load.start_line = static_cast<uint64>(load.file.line_number) + 1;
    if (!source->header) return;
    uint64_t data_offset = 0, data_line = 1;
    load.header = read_header(source, &load.file, load.fd, memory.file, &load.header_count,
                              &data_offset, &data_line);
    load.empty = load.header == nullptr;
    if (load.start_offset == 0) {
        load.start_offset = data_offset;
        load.start_line = data_line;
    }
}

// The file opened as another version than the catalog's (open_data_file): that version, with its
// checksum, is recorded before its first row.
void adopt_version() {
    FileRow *file = &load.file;
    if (file->content_sha256 == nullptr) {
        MemoryContext outside = MemoryContextSwitchTo(memory.file);
        file->content_sha256 =
            file_sha256(load.fd, load.shown, file->file_name, file->size, file->tailing);
        MemoryContextSwitchTo(outside);
    }
    adopt_file_version(file);
    file->adopted = false;
}

// In one transaction: the content's checksum and dedupe, then the inserters for the file's
// header. False when the file is a duplicate.
bool prepare_load() {
    const SourceDefinition *source = load.source;
    begin_batch_transaction(CommitDurability::ServerDefault);
    char *original = settle_content(source, &load.file, load.fd, load.shown);
    if (load.file.adopted) adopt_version();
    if (original == nullptr && !load.empty) {
        add_new_columns(source, load.header, load.header_count);
        PreparedTarget prepared =
            prepare_target(source, load.file.file_name, load.header, load.header_count);
        note_ignored_columns(source, &load.file, prepared.inserter);
        load.inserter = prepared.inserter;
        load.inserter->file_id = load.file.file_id;
        // A replay has lineage, so no COPY: its spans would commit on their own.
        load.copier = load.compressed || load.replaying ? nullptr : prepared.copier;
    }
    commit_batch_transaction();
    if (original == nullptr) return true;
    ereport(LOG,
            (errmsg("pg_ingest source \"%s\": file \"%s\" is a duplicate of \"%s\", not loaded",
                    source->name, load.file.file_name, original)));
    return false;
}

// Only a new file's first span may take small files with it (commit_group).
bool may_share_batch() {
    return load.first_commit && !load.file.loading && !load.alone;
}

// The direct path streams spans into COPY, but for a first span that may be shared: whether it
// is the whole file must be known before its COPY, to take other files with it.
bool streams_spans() {
    return load.copier->path == CopyPath::direct && !may_share_batch();
}

// What reads from `offset` on: without COPY, CsvReader; with COPY, the scanner, fenced into
// COPY's buffer when spans are streamed.
void start_reading(uint64 offset, uint64 line) {
    const SourceDefinition *source = load.source;
    load.fenced = load.copier != nullptr && streams_spans();
    if (load.copier == nullptr)
        start_reader(source, &load.file, load.fd, offset, line);
    else if (load.fenced)
        start_fenced_scanner(source, &load.file, load.fd, load.inserter->field_count, offset, line);
    else
        start_scanner(source, &load.file, load.fd, load.inserter->field_count, offset, line);
}

// COPY's turn: the next span, through COPY when it is plain. The last span of a file read whole
// also marks it done: one transaction less per file, which is most of a small file's cost. A
// first span that is the whole file takes the next small files with it (commit_group).
Commit copy_next_span(const CsvSpan &span) {
    FileRow *file = &load.file;
    if (span.irregular) return kCopyRefused;
    if (check_file_identity(load.fd, file, load.committed) == VersionCheck::truncated)
        return kTruncated;
    bool finishes = span.at_end && static_cast<int64>(span.end_offset) == load_end_offset(file);
    bool may_share = may_share_batch();
    load.first_commit = false;
    if (finishes && may_share) return commit_group(span);
    return commit_span(span, finishes);
}

// CsvReader's turn: the next batch, row by row, from where the reader stands. False at the end
// of the input, with *end_of_input set.
bool read_next_batch(Commit *commit, uint64 *end_of_input) {
    if (!read_nonempty_batch(load.source->batch_size)) {
        *end_of_input = reader_offset();
        return false;
    }
    if (check_file_identity(load.fd, &load.file, load.committed) == VersionCheck::truncated) {
        *commit = kTruncated;
        return true;
    }
    load.first_commit = false;
    *commit = commit_batch();
    return true;
}

// At the end of the input: the file must have been read as discovered, to its last byte. A
// compressed stream that ends early fails in the decompressor instead.
LoadOutcome end_of_input(uint64 offset, uint64 line) {
    load.end_line = static_cast<int64>(line);
    if (!load.compressed &&
        check_read_to_end(&load.file, load.fd, offset, load.committed) == VersionCheck::truncated)
        return LoadOutcome::truncated;
    return LoadOutcome::read_to_end;
}

// COPY's turn: the next span, streamed or scanned first. copy_refused leaves CsvReader positioned
// at the span, for the row path. False at the end of the input, with *end_of_input set.
bool copy_turn(uint64 offset, uint64 line, Commit *commit, uint64 *end_of_input) {
    const SourceDefinition *source = load.source;
    if (load.fenced && offset == static_cast<uint64>(load_end_offset(&load.file))) {
        *end_of_input = offset;
        return false;
    }
    CsvSpan span = {};
    if (!load.fenced) {
        span = scan_span(source->batch_size);
        if (span.rows == 0 && !span.irregular) {
            *end_of_input = span.start_offset;
            return false;
        }
    }
    *commit = load.fenced ? stream_next_span() : copy_next_span(span);
    if (commit->outcome == CommitOutcome::copy_refused)
        start_reader(source, &load.file, load.fd, offset, line);
    return true;
}

// The file's rows from the load's start to its end, one commit per turn. With COPY, plain spans
// go to COPY, and a span that is not plain, or that COPY refuses, is read as one batch by
// CsvReader and loaded row by row; scanning resumes after it.
LoadOutcome load_rows() {
    uint64 offset = load.start_offset, line = load.start_line;
    start_reading(offset, line);
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        Commit commit = kCopyRefused;
        uint64 end = 0;
        if (load.copier != nullptr && !copy_turn(offset, line, &commit, &end))
            return end_of_input(end, line);
        bool by_rows = commit.outcome == CommitOutcome::copy_refused;
        if (by_rows && !read_next_batch(&commit, &end)) return end_of_input(end, line);
        if (commit.outcome == CommitOutcome::owner_refused) return LoadOutcome::owner_refused;
        if (commit.outcome == CommitOutcome::truncated) return LoadOutcome::truncated;
        note_progress(load.slot, &load.file, static_cast<int64>(commit.end_offset), commit.rows);
        if (commit.outcome == CommitOutcome::finished_file) return LoadOutcome::finished_file;
        load.line = static_cast<int64>(commit.next_line);
        load.committed = static_cast<int64>(commit.end_offset);
        offset = commit.end_offset;
        line = commit.next_line;
        // After the row path, or once a first span is no longer to be shared, scanning resumes.
        if (load.copier != nullptr && (by_rows || load.fenced != streams_spans()))
            start_reading(offset, line);
    }
}

// A file to be split: a new file (its checksum settled, not a duplicate), uncompressed (the
// chunks are byte ranges of the file itself), not replayed (a replay is one transaction), of a
// source with several workers, larger than split_bytes.
bool splits_file() {
    const SourceDefinition *source = load.source;
    const FileRow *file = &load.file;
    return source->split_bytes > 0 && source->workers > 1 && !file->split && !file->loading &&
           !load.replaying && !load.compressed && file->size > source->split_bytes &&
           load_end_offset(file) == file->size;
}

// Plans the file's chunks and makes this load chunk 0's. The plan, the file's checksum and its
// status loading commit together: a crash before leaves the file pending and whole, to be
// planned again. The file's claim is then given up, for the sibling workers to claim the other
// chunks; they are woken. A file with no row boundary past split_bytes loads whole.
void plan_chunks() {
    FileRow *file = &load.file;
    int count = 0;
    MemoryContext outside = MemoryContextSwitchTo(memory.file);
    ChunkCut *cuts = find_chunk_cuts(load.source, file, load.fd, load.inserter->field_count,
                                     load.start_offset, load.start_line, &count);
    MemoryContextSwitchTo(outside);
    if (count == 0) return;
    begin_worker_transaction(CommitDurability::ServerDefault);
    int64 first = record_chunks(file, cuts, count);
    if (!claim_chunk(first))
        elog(ERROR, "pg_ingest: could not claim chunk %lld", static_cast<long long>(first));
    commit_worker_transaction();
    file->split = true;
    file->loading = true;
    file->known_sha256 = file->content_sha256;  // written: not again by the chunks' commits
    file->content_sha256 = nullptr;
    file->chunk = FileChunk{first, 0, cuts[0].offset};
    release_file_claim(file->file_id);
    wake_sibling_workers(load.slot->database_id, load.slot->source_id);
    ereport(LOG, (errmsg("pg_ingest source \"%s\": file \"%s\" is loaded in %d chunks by the "
                         "source's workers",
                         load.source->name, file->file_name, count + 1)));
}

LoadOutcome run_load() {
    if (load.file.truncated) return LoadOutcome::truncated;
    if (load.replaying && !begin_replay(load.source, &load.file)) return LoadOutcome::owner_refused;
    locate_first_row();
    if (!prepare_load()) return LoadOutcome::duplicate;
    if (load.empty) return LoadOutcome::read_to_end;
    if (splits_file()) plan_chunks();
    return load_rows();
}

void log_loaded() {
    const FileLoadResult &result = load.result;
    double ms = elapsed_ms(load.started);
    ereport(LOG,
            (errmsg("pg_ingest source \"%s\": loaded file \"%s\": %lld rows, %lld rejected, "
                    "%.0f ms, %.0f rows/s",
                    load.source->name, load.file.file_name,
                    static_cast<long long>(load.file.rows_loaded + result.rows_loaded),
                    static_cast<long long>(load.file.rows_rejected + result.rows_rejected), ms,
                    ms > 0 ? (result.rows_loaded + result.rows_rejected) * 1000.0 / ms : 0.0)));
}

// Tail mode: the file was truncated below its committed offset. This version ends as it stands,
// done with its rows (on_success does not act: the file holds the next version); the watcher
// registers the file from byte 0 as a new version.
void end_truncated_load() {
    struct stat st;
    int64 size = fstat(load.fd, &st) == 0 ? static_cast<int64>(st.st_size) : 0;
    begin_worker_transaction(CommitDurability::ServerDefault);
    end_truncated_version(load.file.file_id, size);
    commit_worker_transaction();
    ereport(LOG,
            (errmsg("pg_ingest source \"%s\": file \"%s\" was truncated to %lld bytes: its "
                    "loaded version ends, the file is loaded again from byte 0 as a new version",
                    load.source->name, load.file.file_name, static_cast<long long>(size))));
}

void log_chunk_loaded() {
    ereport(LOG,
            (errmsg("pg_ingest source \"%s\": loaded chunk %d of file \"%s\": %lld rows, "
                    "%lld rejected, %.0f ms",
                    load.source->name, load.file.chunk.chunk_no, load.file.file_name,
                    static_cast<long long>(load.result.rows_loaded),
                    static_cast<long long>(load.result.rows_rejected), elapsed_ms(load.started))));
}

// The one place a load that did not raise ends: a file read to its end is marked done, and a
// done file gets its on_success (before the file's memory, path and shown, is released). A
// chunk's load marks the chunk done, and the file only with its last chunk.
void end_load(LoadOutcome outcome) {
    if (outcome == LoadOutcome::read_to_end) finish(load.source, &load.file);
    if (outcome == LoadOutcome::truncated) end_truncated_load();
    bool ended = outcome == LoadOutcome::read_to_end || outcome == LoadOutcome::finished_file;
    bool chunk = load.file.chunk.chunk_id != 0;
    if (load.file_done) apply_on_success(load.source, load.path, load.shown, &load.file);
    abandon_file_load();
    error_context_stack = load.callback.previous;
    if (ended && chunk) log_chunk_loaded();
    if (load.file_done && chunk)
        ereport(LOG, (errmsg("pg_ingest source \"%s\": loaded file \"%s\" with its last chunk",
                             load.source->name, load.file.file_name)));
    else if (load.file_done)
        log_loaded();
}

}  // namespace

void abandon_file_load() {
    release_readers();
    if (load.fd >= 0) close(load.fd);
    load.fd = -1;
    close_joining_file();
    if (memory.batch != nullptr) MemoryContextReset(memory.batch);
    if (memory.file != nullptr) MemoryContextReset(memory.file);
}

int64 current_load_line() {
    return load.line;
}

int64 growth_left_behind() {
    const FileRow *file = &load.file;
    bool grew = load.file_done && file->change_retried && file->verified_size > file->size;
    return grew ? file->verified_size : 0;
}

void load_file(const SourceDefinition *source, const FileRow *requested, WorkerSlot *slot) {
    begin_load(source, requested, slot);
    end_load(run_load());
}

}  // namespace pg_ingest
