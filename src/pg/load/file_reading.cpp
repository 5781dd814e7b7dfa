#include "pg/load/file_reading.hpp"

#include "core/csv/compressed_source.hpp"
#include "pg/load/data_file.hpp"
#include "pg/support/pg_guard.hpp"

#include <algorithm>
#include <memory>

extern "C" {
#include <unistd.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/memutils.h"
}

namespace pg_ingest {

namespace {

// The C++ objects of the file being loaded. Static, so that an ERROR's longjmp never skips their
// destructors; release_readers() resets them.
struct ReaderState {
    std::unique_ptr<FdByteSource> bytes;
    std::unique_ptr<ByteSource> decompressor;       // for a compressed file, over bytes
    std::unique_ptr<UncompressedReader> raw_lines;  // rejected lines' text in a compressed file
    std::unique_ptr<CsvReader> reader;
    std::unique_ptr<CsvSpanScanner> scanner;
    CsvBatch batch;
    // The line end of file line_end_file (-1: none yet), as the file's start decided it.
    int64 line_end_file = -1;
    LineEnd line_end = LineEnd::kUnknown;
};

ReaderState &reader_state() {
    static ReaderState state;
    return state;
}

// A row holds at least its longest field, so a source that allows longer fields allows longer
// rows: otherwise raising max_field_bytes past 16 MB would still reject every such row.
size_t max_row_bytes(const SourceDefinition *source) {
    return std::max<size_t>(CsvOptions{}.max_row_bytes,
                            static_cast<size_t>(source->max_field_bytes));
}

CsvOptions reader_options(const SourceDefinition *source, LineEnd line_end) {
    CsvOptions options;
    options.line_end = line_end;
    options.delimiter = source->delimiter;
    options.quote = source->quote;
    options.null_string = source->null_string;
    options.max_field_bytes = static_cast<size_t>(source->max_field_bytes);
    options.max_row_bytes = max_row_bytes(source);
    options.validate_utf8 = source->encoding == PG_UTF8;
    return options;
}

// A chunk's load reads to the chunk's end, as if the file ended there.
uint64_t bytes_to_read(const FileRow *file, uint64_t offset) {
    uint64_t end = static_cast<uint64_t>(load_end_offset(file));
    return end > offset ? end - offset : 0;
}

// CsvReader at offset, on line `line`, reading lines that end with line_end.
void open_reader(const SourceDefinition *source, const FileRow *file, int fd, uint64_t offset,
                 uint64_t line, LineEnd line_end) {
    Compression compression = compression_of(file->disk_name);
    seek_data_file(fd, compression == Compression::kNone ? offset : 0, file);
    cpp_guard([&] {
        ReaderState &state = reader_state();
        state.reader.reset();
        state.scanner.reset();
        state.decompressor.reset();
        state.bytes = compression == Compression::kNone
                          ? std::make_unique<FdByteSource>(fd, bytes_to_read(file, offset))
                          : std::make_unique<FdByteSource>(fd);
        ByteSource *input = state.bytes.get();
        if (compression != Compression::kNone) {
            state.decompressor = make_decompressor(compression, *state.bytes);
            skip_bytes(*state.decompressor, offset);
            input = state.decompressor.get();
            if (!state.raw_lines)
                state.raw_lines = std::make_unique<UncompressedReader>(fd, compression);
        }
        state.reader =
            std::make_unique<CsvReader>(*input, reader_options(source, line_end), offset, line);
    });
}

bool read_batch(int max_rows) {
    return cpp_guard([&] {
        ReaderState &state = reader_state();
        return state.reader->next_batch(state.batch, static_cast<size_t>(max_rows), kMaxBatchBytes);
    });
}

// Keeps the line end that the reader, which read from the file's start, decided.
void remember_line_end(const FileRow *file) {
    ReaderState &state = reader_state();
    state.line_end = cpp_guard([] { return reader_state().reader->line_end(); });
    state.line_end_file = file->file_id;
}

// The file's line end, which its first line break outside quotes decides, as in COPY: read from
// the file's start by CsvReader (the first record only; the header's read keeps it), once per
// file.
LineEnd file_line_end(const SourceDefinition *source, const FileRow *file, int fd) {
    ReaderState &state = reader_state();
    if (state.line_end_file == file->file_id) return state.line_end;
    open_reader(source, file, fd, 0, 1, LineEnd::kUnknown);
    const auto decided = [] { return reader_state().reader->line_end() != LineEnd::kUnknown; };
    while (!cpp_guard(decided) && read_batch(1)) CHECK_FOR_INTERRUPTS();
    remember_line_end(file);
    return state.line_end;
}

// The byte that ends a line of the file: '\n' (of "\n" or "\r\n"), or a lone '\r'.
char terminator_byte(LineEnd line_end) {
    return line_end == LineEnd::kCarriageReturn ? '\r' : '\n';
}

CsvScanOptions scan_options(const SourceDefinition *source, int field_count, LineEnd line_end) {
    CsvScanOptions options;
    options.line_end = line_end;
    options.delimiter = source->delimiter;
    options.quote = source->quote;
    options.field_count = static_cast<size_t>(field_count);
    options.max_field_bytes = static_cast<size_t>(source->max_field_bytes);
    options.max_row_bytes = max_row_bytes(source);
    return options;
}

}  // namespace

void start_reader(const SourceDefinition *source, const FileRow *file, int fd, uint64_t offset,
                  uint64_t line) {
    // From the file's start, the reader decides the line end itself.
    LineEnd line_end = offset == 0 ? LineEnd::kUnknown : file_line_end(source, file, fd);
    open_reader(source, file, fd, offset, line, line_end);
}

void start_scanner(const SourceDefinition *source, const FileRow *file, int fd, int field_count,
                   uint64_t offset, uint64_t line) {
    LineEnd line_end = file_line_end(source, file, fd);
    seek_data_file(fd, offset, file);
    cpp_guard([&] {
        ReaderState &state = reader_state();
        state.reader.reset();
        state.scanner.reset();
        state.bytes = std::make_unique<FdByteSource>(fd, bytes_to_read(file, offset));
        state.scanner = std::make_unique<CsvSpanScanner>(
            *state.bytes, scan_options(source, field_count, line_end), offset, line);
    });
}

CsvSpan scan_span(int max_rows, size_t max_bytes) {
    return cpp_guard([&] {
        return reader_state().scanner->next_span(static_cast<size_t>(max_rows), max_bytes);
    });
}

void start_fenced_scanner(const SourceDefinition *source, const FileRow *file, int fd,
                          int field_count, uint64_t offset, uint64_t line) {
    LineEnd line_end = file_line_end(source, file, fd);
    cpp_guard([&] {
        ReaderState &state = reader_state();
        state.reader.reset();
        state.bytes.reset();
        state.scanner = std::make_unique<CsvSpanScanner>(
            scan_options(source, field_count, line_end), offset, line);
    });
}

namespace {

// The scanner's span is not plain: COPY is abandoned before it reads a row CsvReader would read
// otherwise, and the span goes to the row path.
void refuse_irregular_span(const CsvSpan &span) {
    if (!span.irregular) return;
    ereport(ERROR, (errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
                    errmsg("the span from line %llu holds a row that is not plain CSV",
                           static_cast<unsigned long long>(span.start_line))));
}

FenceStep admit_to_span(const char *data, size_t size) {
    CsvScanStep step = cpp_guard([&] { return reader_state().scanner->scan_memory(data, size); });
    const CsvSpan &span = fenced_span();
    refuse_irregular_span(span);
    return {step.bytes_in_span, step.span_ended};
}

void end_of_fenced_input() {
    cpp_guard([] { reader_state().scanner->end_input(); });
    refuse_irregular_span(fenced_span());
}

uint64 fenced_rows() {
    return fenced_span().rows;
}

constexpr ReadFence kSpanFence = {admit_to_span, end_of_fenced_input, fenced_rows};

}  // namespace

const ReadFence *begin_fenced_span(int max_rows, size_t max_bytes) {
    cpp_guard(
        [&] { reader_state().scanner->begin_span(static_cast<size_t>(max_rows), max_bytes); });
    return &kSpanFence;
}

const CsvSpan &fenced_span() {
    return reader_state().scanner->span();
}

int64 complete_lines_end(const SourceDefinition *source, const FileRow *file, int fd, int64 from) {
    LineEnd line_end = file_line_end(source, file, fd);
    if (line_end == LineEnd::kUnknown) return from;
    const char terminator = terminator_byte(line_end);
    char buffer[8192];
    int64 end = file->size;
    while (end > from) {
        CHECK_FOR_INTERRUPTS();
        int64 start = std::max<int64>(from, end - static_cast<int64>(sizeof buffer));
        ssize_t got =
            pread(fd, buffer, static_cast<size_t>(end - start), static_cast<off_t>(start));
        if (got < 0)
            ereport(ERROR, (errcode_for_file_access(),
                            errmsg("could not read file \"%s\": %m", file->file_name)));
        if (got < end - start) return from;  // shorter than recorded: its checks tell how
        for (int64 i = got - 1; i >= 0; i--)
            if (buffer[i] == terminator) return start + i + 1;
        end = start;
    }
    return from;
}

char **read_header(const SourceDefinition *source, const FileRow *file, int fd,
                   MemoryContext context, int *count, uint64_t *end_offset, uint64_t *end_line) {
    start_reader(source, file, fd, 0, 1);
    if (!read_batch(1)) return nullptr;
    const CsvBatch &batch = reader_state().batch;
    while (batch.rows.empty())
        if (!read_batch(1)) return nullptr;
    const CsvRow &header = batch.rows[0];
    remember_line_end(file);
    if (!header.error.empty())
        ereport(ERROR, (errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
                        errmsg("could not read the header of file \"%s\": %s", file->file_name,
                               header.error.c_str())));
    *count = static_cast<int>(header.field_count);
    char **names = static_cast<char **>(MemoryContextAlloc(context, sizeof(char *) * (*count + 1)));
    const CsvField *fields = batch.row_fields(header);
    for (int i = 0; i < *count; i++)
        names[i] = fields[i].is_null
                       ? MemoryContextStrdup(context, "")
                       : static_cast<char *>(MemoryContextAllocZero(context, fields[i].size + 1));
    for (int i = 0; i < *count; i++)
        if (!fields[i].is_null) memcpy(names[i], fields[i].data, fields[i].size);
    *end_offset = header.end_offset;
    *end_line = header.end_line;
    return names;
}

bool read_nonempty_batch(int max_rows) {
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (!read_batch(max_rows)) return false;
        if (!reader_state().batch.rows.empty()) return true;
    }
}

const CsvBatch &read_rows() {
    return reader_state().batch;
}

uint64_t reader_offset() {
    return cpp_guard([] { return reader_state().reader->offset(); });
}

UncompressedReader *uncompressed_lines() {
    return reader_state().raw_lines.get();
}

void release_readers() {
    cpp_guard([] {
        ReaderState &state = reader_state();
        state.reader.reset();
        state.scanner.reset();
        state.decompressor.reset();
        state.bytes.reset();
        state.raw_lines.reset();
        state.line_end_file = -1;
    });
}

}  // namespace pg_ingest
