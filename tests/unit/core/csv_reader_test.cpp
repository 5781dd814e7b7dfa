#include "core/csv/csv_reader.hpp"

#include "core/trickle_source.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pg_ingest {
namespace {

using Value = std::optional<std::string>;  // nullopt = NULL

struct Row {
    uint64_t line_number;
    uint64_t start_offset;
    uint64_t end_offset;
    uint64_t end_line;
    std::vector<Value> fields;
    std::string error;

    bool operator==(const Row &other) const {
        return line_number == other.line_number && start_offset == other.start_offset &&
               end_offset == other.end_offset && end_line == other.end_line &&
               fields == other.fields && error == other.error;
    }
};

std::ostream &operator<<(std::ostream &out, const Row &row) {
    out << "{line " << row.line_number << ", [" << row.start_offset << ", " << row.end_offset
        << "), end_line " << row.end_line << ", fields";
    for (const Value &field : row.fields) out << " " << (field ? "'" + *field + "'" : "NULL");
    return out << ", error '" << row.error << "'}";
}

void append_rows(const CsvBatch &batch, std::vector<Row> &rows) {
    for (const CsvRow &csv_row : batch.rows) {
        Row row{csv_row.line_number, csv_row.start_offset, csv_row.end_offset, csv_row.end_line, {},
                csv_row.error};
        const CsvField *fields = batch.row_fields(csv_row);
        for (uint32_t i = 0; i < csv_row.field_count; ++i) {
            if (fields[i].is_null) {
                EXPECT_EQ(fields[i].data, nullptr);
                row.fields.emplace_back();
            } else {
                row.fields.emplace_back(std::string(fields[i].data, fields[i].size));
            }
        }
        rows.push_back(std::move(row));
    }
}

// With `line_end`, also tells what the reader took as the input's line end.
std::vector<Row> read_all(ByteSource &source, const CsvOptions &options = {},
                          uint64_t start_offset = 0, uint64_t start_line = 1,
                          size_t max_rows = 1000, size_t max_bytes = 8 << 20,
                          LineEnd *line_end = nullptr) {
    CsvReader reader(source, options, start_offset, start_line);
    CsvBatch batch;
    std::vector<Row> rows;
    while (reader.next_batch(batch, max_rows, max_bytes)) append_rows(batch, rows);
    EXPECT_TRUE(batch.rows.empty());
    EXPECT_FALSE(reader.next_batch(batch, max_rows, max_bytes));
    if (line_end != nullptr) *line_end = reader.line_end();
    return rows;
}

std::vector<Row> read_all(const std::string &input, const CsvOptions &options = {},
                          LineEnd *line_end = nullptr) {
    StringByteSource source(input);
    return read_all(source, options, 0, 1, 1000, 8 << 20, line_end);
}

// The rows as the reader gives them, for what Row leaves out (last_line).
std::vector<CsvRow> read_csv_rows(const std::string &input, const CsvOptions &options = {}) {
    StringByteSource source(input);
    CsvReader reader(source, options);
    CsvBatch batch;
    std::vector<CsvRow> rows;
    while (reader.next_batch(batch, 1000))
        rows.insert(rows.end(), batch.rows.begin(), batch.rows.end());
    return rows;
}

// A reader resuming at `offset` in `input` is told the line end its start decided.
std::vector<Row> read_rest(const std::string &input, CsvOptions options, LineEnd line_end,
                           uint64_t offset, uint64_t line) {
    options.line_end = line_end;
    StringByteSource rest(input.substr(offset));
    return read_all(rest, options, offset, line);
}

// Produces `head` followed by `pattern` repeated up to `total` bytes, without holding them.
class GeneratedSource : public ByteSource {
  public:
    GeneratedSource(std::string head, std::string pattern, uint64_t total)
        : head_(std::move(head)), pattern_(std::move(pattern)), total_(total) {}
    size_t read(char *buf, size_t size) override {
        size_t count = 0;
        while (count < size && produced_ < total_) {
            const std::string &text = produced_ < head_.size() ? head_ : pattern_;
            const size_t position =
                produced_ < head_.size() ? produced_ : (produced_ - head_.size()) % pattern_.size();
            const size_t take =
                std::min<uint64_t>({size - count, text.size() - position, total_ - produced_});
            std::memcpy(buf + count, text.data() + position, take);
            count += take;
            produced_ += take;
        }
        return count;
    }
    uint64_t produced() const { return produced_; }

  private:
    std::string head_;
    std::string pattern_;
    uint64_t total_;
    uint64_t produced_ = 0;
};

TEST(CsvReaderTest, ReadsRowsWithLinesAndOffsets) {
    const std::vector<Row> expected = {
        {1, 0, 4, 2, {"a", "b"}, ""},
        {2, 4, 11, 3, {"cc", "ddd"}, ""},
    };
    EXPECT_EQ(read_all("a,b\ncc,ddd\n"), expected);
}

TEST(CsvReaderTest, KeepsLeadingAndTrailingSpaces) {
    const std::vector<Row> expected = {{1, 0, 14, 2, {" a ", "\tb\t", " ", "c d"}, ""}};
    EXPECT_EQ(read_all(" a ,\tb\t, ,c d\n"), expected);
}

TEST(CsvReaderTest, EmptyUnquotedFieldIsNullButQuotedEmptyFieldIsNot) {
    const std::vector<Row> expected = {{1, 0, 7, 2, {std::nullopt, "", "x", std::nullopt}, ""}};
    EXPECT_EQ(read_all(",\"\",x,\n"), expected);
}

TEST(CsvReaderTest, NullStringMatchesOnlyUnquotedFields) {
    CsvOptions options;
    options.null_string = "\\N";
    const std::vector<Row> expected = {
        {1, 0, 16, 2, {std::nullopt, "\\N", "", "", "\\Nx"}, ""},
        {2, 16, 26, 3, {"\\N", std::nullopt, "N"}, ""},
    };
    EXPECT_EQ(read_all("\\N,\"\\N\",,\"\",\\Nx\n\"\\N\",\\N,N\n", options), expected);
}

TEST(CsvReaderTest, RejectsInconsistentOptions) {
    StringByteSource source("");
    CsvOptions same_delimiter_and_quote;
    same_delimiter_and_quote.delimiter = '"';
    EXPECT_THROW(CsvReader(source, same_delimiter_and_quote), std::invalid_argument);
    CsvOptions null_with_quote;
    null_with_quote.null_string = "\"";
    EXPECT_THROW(CsvReader(source, null_with_quote), std::invalid_argument);
    CsvOptions null_with_delimiter;
    null_with_delimiter.null_string = "a,b";
    EXPECT_THROW(CsvReader(source, null_with_delimiter), std::invalid_argument);
    CsvOptions newline_delimiter;
    newline_delimiter.delimiter = '\n';
    EXPECT_THROW(CsvReader(source, newline_delimiter), std::invalid_argument);
}

TEST(CsvReaderTest, CrLfIsOneTerminator) {
    const std::vector<Row> expected = {
        {1, 0, 5, 2, {"a", "b"}, ""},
        {2, 5, 8, 3, {std::nullopt, std::nullopt}, ""},
        {3, 8, 11, 4, {"c"}, ""},
    };
    EXPECT_EQ(read_all("a,b\r\n,\r\nc\r\n"), expected);
}

TEST(CsvReaderTest, BlankLinesAreRowsWithoutFields) {
    const std::vector<Row> expected = {
        {1, 0, 1, 2, {}, ""}, {2, 1, 3, 3, {"a"}, ""}, {3, 3, 4, 4, {}, ""},
        {4, 4, 5, 5, {}, ""}, {5, 5, 7, 6, {"b"}, ""},
    };
    EXPECT_EQ(read_all("\na\n\n\nb\n"), expected);
    const std::vector<Row> crlf = {{1, 0, 2, 2, {}, ""}, {2, 2, 5, 3, {"a"}, ""}};
    EXPECT_EQ(read_all("\r\na\r\n"), crlf);
    const std::vector<Row> cr = {{1, 0, 1, 2, {}, ""}, {2, 1, 3, 3, {"a"}, ""}};
    EXPECT_EQ(read_all("\ra\r"), cr);
}

TEST(CsvReaderTest, LastRowWithoutNewline) {
    const std::vector<Row> expected = {
        {1, 0, 4, 2, {"a", "b"}, ""},
        {2, 4, 7, 2, {"c", "d"}, ""},
    };
    EXPECT_EQ(read_all("a,b\nc,d"), expected);
    const std::vector<Row> quoted = {{1, 0, 5, 1, {"x,y"}, ""}};
    EXPECT_EQ(read_all("\"x,y\""), quoted);
    // A final lone carriage return is the file's line end, as in COPY.
    const std::vector<Row> carriage_return = {{1, 0, 4, 2, {"a", "b"}, ""}};
    EXPECT_EQ(read_all("a,b\r"), carriage_return);
}

TEST(CsvReaderTest, EmptyInputHasNoRows) {
    EXPECT_TRUE(read_all("").empty());
    EXPECT_TRUE(read_all("\xEF\xBB\xBF").empty());
}

TEST(CsvReaderTest, DecodesQuotedFields) {
    const std::string input = "\"multi\nline\",\"a,b\",\"say \"\"hi\"\"\",\"\"\"\"\nnext\n";
    const std::vector<Row> expected = {
        {1, 0, 37, 3, {"multi\nline", "a,b", "say \"hi\"", "\""}, ""},
        {3, 37, 42, 4, {"next"}, ""},
    };
    EXPECT_EQ(read_all(input), expected);
}

TEST(CsvReaderTest, KeepsCrLfInsideQuotedField) {
    const std::vector<Row> expected = {
        {1, 0, 8, 3, {"x\r\ny"}, ""},
        {3, 8, 11, 4, {"z"}, ""},
    };
    EXPECT_EQ(read_all("\"x\r\ny\"\r\nz\r\n"), expected);
}

TEST(CsvReaderTest, CustomDelimiterAndQuote) {
    CsvOptions semicolon;
    semicolon.delimiter = ';';
    semicolon.quote = '\'';
    const std::vector<Row> expected = {{1, 0, 19, 2, {"a,b", "it's; \"x\"", "c"}, ""}};
    EXPECT_EQ(read_all("a,b;'it''s; \"x\"';c\n", semicolon), expected);

    CsvOptions tab;
    tab.delimiter = '\t';
    const std::vector<Row> tabbed = {{1, 0, 11, 2, {"a b", "\t", std::nullopt, "c"}, ""}};
    EXPECT_EQ(read_all("a b\t\"\t\"\t\tc\n", tab), tabbed);
}

TEST(CsvReaderTest, SkipsByteOrderMarkOnlyAtStartOfFile) {
    const std::vector<Row> expected = {{1, 3, 7, 2, {"a", "b"}, ""}};
    EXPECT_EQ(read_all("\xEF\xBB\xBF"
                       "a,b\n"),
              expected);
    StringByteSource source("\xEF\xBB\xBFz\n");
    const std::vector<Row> resumed = {{5, 10, 15, 6, {"\xEF\xBB\xBFz"}, ""}};
    EXPECT_EQ(read_all(source, {}, 10, 5), resumed);
}

TEST(CsvReaderTest, FieldLongerThanLimitMakesRowBad) {
    CsvOptions options;
    options.max_field_bytes = 8;
    const std::string input =
        "12345678,x\n"
        "123456789,x\n"
        "\"0123456789\n,inside\"\"\n\",x\n"
        "next\n";
    const std::vector<Row> expected = {
        {1, 0, 11, 2, {"12345678", "x"}, ""},
        {2, 11, 23, 3, {}, "field exceeds 8 bytes at column 1"},
        {3, 23, 49, 6, {}, "field exceeds 8 bytes at column 1"},
        {6, 49, 54, 7, {"next"}, ""},
    };
    EXPECT_EQ(read_all(input, options), expected);
}

TEST(CsvReaderTest, SkipsLongFieldWithQuotesAndNewlinesInBoundedMemory) {
    CsvOptions options;
    options.max_field_bytes = 4;
    // The long field is abandoned on the first line; skipping then has to follow the doubled
    // quote, the quoted newlines and delimiters, and text after a closing quote (which libcsv
    // keeps inside the field) to find the record's end.
    const std::string input =
        "a,\"xxxxxx\"\"\n"
        ",\n"
        "\"y\nz\"\"q\",\"w\"\n"
        "next\n";
    const std::vector<Row> expected = {
        {1, 0, 27, 5, {}, "field exceeds 4 bytes at column 2"},
        {5, 27, 32, 6, {"next"}, ""},
    };
    EXPECT_EQ(read_all(input, options), expected);
}

TEST(CsvReaderTest, UnterminatedQuoteAtEndOfInput) {
    const std::string input = "a\n\"b,c\nd\n";
    const std::vector<Row> expected = {
        {1, 0, 2, 2, {"a"}, ""},
        {2, 2, 9, 4, {}, "unterminated quoted field: its quote opened on line 2"},
    };
    EXPECT_EQ(read_all(input), expected);
    const std::vector<CsvRow> rows = read_csv_rows(input);
    EXPECT_EQ(rows[1].last_line, 3u);
}

// An unterminated quote longer than max_field_bytes is still reported as the unterminated quote,
// with where it opened, and the reject covers every line it swallowed (first to last).
TEST(CsvReaderTest, UnterminatedQuoteOverTheFieldLimitSaysWhereItOpened) {
    CsvOptions options;
    options.max_field_bytes = 10;
    const std::string input = "\"abcdef\nghijkl\nmnop\n";
    const std::vector<Row> expected = {
        {1, 0, 20, 4, {}, "unterminated quoted field: its quote opened on line 1"}};
    EXPECT_EQ(read_all(input, options), expected);

    const std::string later =
        "id,note\n1,a\n2,b\n3,\"opens here\n" + std::string(40, 'x') + "\n" + "4,d\n5,e\n6,f";
    const std::vector<CsvRow> rows = read_csv_rows(later, options);
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[3].error, "unterminated quoted field: its quote opened on line 4");
    EXPECT_EQ(rows[3].line_number, 4u);
    EXPECT_EQ(rows[3].last_line, 8u);
    EXPECT_EQ(rows[3].end_offset, later.size());
    // Every line is in exactly one row: the header, two rows, and the reject's lines 4 to 8.
    EXPECT_EQ(rows[2].last_line + 1, rows[3].line_number);

    const std::string crlf = "a\r\n\"" + std::string(30, 'y') + "\r\nz\r\n";
    const std::vector<CsvRow> crlf_rows = read_csv_rows(crlf, options);
    ASSERT_EQ(crlf_rows.size(), 2u);
    EXPECT_EQ(crlf_rows[1].error, "unterminated quoted field: its quote opened on line 2");
    EXPECT_EQ(crlf_rows[1].last_line, 3u);
    EXPECT_EQ(crlf_rows[1].end_line, 4u);
}

TEST(CsvReaderTest, InvalidUtf8AndNulMakeRowBad) {
    const std::string input = std::string(
                                  "ok,\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80\n"
                                  "x,\xFF\n"
                                  "x,y,a\xE2\x28\xA1\n"
                                  "\xC0\xAF\n"
                                  "\xED\xA0\x80\n"
                                  "\xF4\x90\x80\x80\n"
                                  "abc\xE2\x82\n"
                                  "a,b\0c\n",
                                  50) +
                              "\"a\nb\",\"\xF0\x9F\x98\n\"\n"
                              "last\n";
    const std::vector<Row> expected = {
        {1, 0, 13, 2, {"ok", "\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80"}, ""},
        {2, 13, 17, 3, {}, "invalid UTF-8 byte sequence 0xff at column 2"},
        {3, 17, 26, 4, {}, "invalid UTF-8 byte sequence 0xe2 0x28 at column 3"},
        {4, 26, 29, 5, {}, "invalid UTF-8 byte sequence 0xc0 at column 1"},
        {5, 29, 33, 6, {}, "invalid UTF-8 byte sequence 0xed 0xa0 at column 1"},
        {6, 33, 38, 7, {}, "invalid UTF-8 byte sequence 0xf4 0x90 at column 1"},
        {7, 38, 44, 8, {}, "invalid UTF-8 byte sequence 0xe2 0x82 at column 1"},
        {8, 44, 50, 9, {}, "NUL byte at column 2"},
        {9, 50, 63, 12, {}, "invalid UTF-8 byte sequence 0xf0 0x9f 0x98 0x0a at column 2"},
        {12, 63, 68, 13, {"last"}, ""},
    };
    EXPECT_EQ(read_all(input), expected);

    CsvOptions unchecked;
    unchecked.validate_utf8 = false;
    const std::vector<Row> accepted = {{1, 0, 6, 2, {"\xFF", std::string("a\0b", 3)}, ""}};
    EXPECT_EQ(read_all(std::string("\xFF,a\0b\n", 6), unchecked), accepted);
}

TEST(CsvReaderTest, UnquotedCarriageReturnMakesRowBad) {
    const std::vector<Row> expected = {
        {1, 0, 2, 2, {"x"}, ""},
        {2, 2, 6, 3, {}, "unquoted carriage return found in data"},
        {3, 6, 10, 4, {}, "unquoted carriage return found in data"},
        {4, 10, 16, 5, {}, "unquoted carriage return found in data"},
        {5, 16, 18, 6, {"c"}, ""},
    };
    EXPECT_EQ(read_all("x\na\rb\n\rxy\na,b\r\r\nc\n"), expected);
}

TEST(CsvReaderTest, ALoneCarriageReturnEndsTheLinesOfItsFile) {
    LineEnd line_end = LineEnd::kUnknown;
    const std::vector<Row> expected = {
        {1, 0, 4, 2, {"a", "b"}, ""},
        {2, 4, 8, 3, {"1", "2"}, ""},
        {3, 8, 11, 3, {"3", "4"}, ""},
    };
    EXPECT_EQ(read_all("a,b\r1,2\r3,4", {}, &line_end), expected);
    EXPECT_EQ(line_end, LineEnd::kCarriageReturn);
}

// COPY's rule: the first line break outside quotes is the file's line end, any other outside
// quotes is refused with COPY's words, a line at a time.
TEST(CsvReaderTest, TheFirstLineBreakDecidesTheLineEnd) {
    LineEnd line_end = LineEnd::kUnknown;
    const std::vector<Row> newline = {
        {1, 0, 2, 2, {"a"}, ""},
        {2, 2, 5, 3, {}, "unquoted carriage return found in data"},
        {3, 5, 7, 4, {"c"}, ""},
    };
    EXPECT_EQ(read_all("a\nb\r\nc\n", {}, &line_end), newline);
    EXPECT_EQ(line_end, LineEnd::kNewline);
    const std::vector<Row> crlf = {
        {1, 0, 3, 2, {"a"}, ""},
        {2, 3, 5, 3, {}, "unquoted newline found in data"},
        {3, 5, 10, 4, {}, "unquoted carriage return found in data"},
    };
    EXPECT_EQ(read_all("a\r\nb\nc\rd\r\n", {}, &line_end), crlf);
    EXPECT_EQ(line_end, LineEnd::kCarriageReturnNewline);
    const std::vector<Row> cr = {
        {1, 0, 2, 2, {"a"}, ""},
        {2, 2, 6, 3, {}, "unquoted newline found in data"},
        {3, 6, 9, 4, {}, "unquoted newline found in data"},
        {4, 9, 11, 5, {"e"}, ""},
    };
    EXPECT_EQ(read_all("a\rb\nc\r\nd\re\r", {}, &line_end), cr);
    EXPECT_EQ(line_end, LineEnd::kCarriageReturn);
}

// Inside quotes any line break is data; lines are counted by the file's line end byte, also
// those in quotes before the line end was known.
TEST(CsvReaderTest, QuotedLineBreaksInACarriageReturnFile) {
    const std::string input = "\"a\rb\",\"c\nd\"\r\"p\rq\"\rz\r";
    const std::vector<Row> expected = {
        {1, 0, 12, 3, {"a\rb", "c\nd"}, ""},
        {3, 12, 18, 5, {"p\rq"}, ""},
        {5, 18, 20, 6, {"z"}, ""},
    };
    LineEnd line_end = LineEnd::kUnknown;
    EXPECT_EQ(read_all(input, {}, &line_end), expected);
    EXPECT_EQ(line_end, LineEnd::kCarriageReturn);
    const std::vector<CsvRow> rows = read_csv_rows(input);
    EXPECT_EQ(rows[0].last_line, 2u);
    EXPECT_EQ(rows[1].last_line, 4u);
    for (size_t step : {1, 2, 3}) {
        TrickleSource source(input, step);
        EXPECT_EQ(read_all(source, {}, 0, 1, 1, 1), expected) << "step " << step;
    }
    EXPECT_EQ(read_rest(input, {}, line_end, 12, 3),
              std::vector<Row>(expected.begin() + 1, expected.end()));
}

TEST(CsvReaderTest, RowLimits) {
    CsvOptions options;
    options.max_row_fields = 3;
    options.max_row_bytes = 6;
    const std::vector<Row> expected = {
        {1, 0, 6, 2, {"a", "b", "c"}, ""},
        {2, 6, 14, 3, {}, "row has more than 3 fields"},
        {3, 14, 23, 4, {}, "row exceeds 6 bytes"},
        {4, 23, 31, 5, {"abc", "def"}, ""},
    };
    EXPECT_EQ(read_all("a,b,c\na,b,c,d\nabc,defg\nabc,def\n", options), expected);
}

// Blank lines, CRLF inside quotes and outside (refused: the file's line end is "\n"), quoted
// newlines, bad rows of every kind and no final newline.
const char kMixedInput[] =
    "id,name,comment\n"
    "1,alice,\"line one\nline two\"\n"
    "\n"
    "2,,\"\"\n"
    "3,\"bob \"\"the builder\"\"\",x\n"
    "4,\xFF,bad\n"
    "5,\"very long field that exceeds the limit,\nwith a newline\",y\n"
    "\r\n"
    "6,a\rb,cr\n"
    "7,\"quoted\r\nCRLF\",z\n"
    "8,last,\"no newline\"";

CsvOptions mixed_options() {
    CsvOptions options;
    options.max_field_bytes = 32;
    return options;
}

TEST(CsvReaderTest, MixedInputAsExpected) {
    const std::vector<Row> rows = read_all(kMixedInput, mixed_options());
    ASSERT_EQ(rows.size(), 11u);
    EXPECT_EQ(rows[1], (Row{2, 16, 44, 4, {"1", "alice", "line one\nline two"}, ""}));
    EXPECT_EQ(rows[2], (Row{4, 44, 45, 5, {}, ""}));
    EXPECT_EQ(rows[3], (Row{5, 45, 51, 6, {"2", std::nullopt, ""}, ""}));
    EXPECT_EQ(rows[6].error, "field exceeds 32 bytes at column 2");
    EXPECT_EQ(rows[6].line_number, 8u);
    // The file's line end is "\n": a "\r\n" outside quotes is refused, as COPY refuses it.
    EXPECT_EQ(rows[7], (Row{10, 146, 148, 11, {}, "unquoted carriage return found in data"}));
    EXPECT_EQ(rows[8].error, "unquoted carriage return found in data");
    EXPECT_EQ(rows[9].fields, (std::vector<Value>{"7", "quoted\r\nCRLF", "z"}));
    EXPECT_EQ(rows[10], (Row{14, 176, 195, 14, {"8", "last", "no newline"}, ""}));
}

TEST(CsvReaderTest, ResumingAtEveryRowEndReproducesTheRest) {
    const std::string input = kMixedInput;
    LineEnd line_end = LineEnd::kUnknown;
    const std::vector<Row> full = read_all(input, mixed_options(), &line_end);
    for (size_t i = 0; i < full.size(); ++i) {
        const std::vector<Row> resumed =
            read_rest(input, mixed_options(), line_end, full[i].end_offset, full[i].end_line);
        EXPECT_EQ(resumed, std::vector<Row>(full.begin() + i + 1, full.end())) << "after row " << i;
    }
}

TEST(CsvReaderTest, PiecewiseInputAndSmallBatchesGiveTheSameRows) {
    const std::vector<Row> full = read_all(kMixedInput, mixed_options());
    for (size_t step : {1, 2, 3, 5, 16}) {
        for (size_t max_bytes : {0, 7, 1 << 20}) {
            TrickleSource source(kMixedInput, step);
            EXPECT_EQ(read_all(source, mixed_options(), 0, 1, 1, max_bytes), full)
                << "step " << step << ", max_bytes " << max_bytes;
        }
    }
}

TEST(CsvReaderTest, CarriageReturnSplitFromItsNewline) {
    TrickleSource source("a\r\nb\r\n\r\n", 2);
    const std::vector<Row> expected = {
        {1, 0, 3, 2, {"a"}, ""},
        {2, 3, 6, 3, {"b"}, ""},
        {3, 6, 8, 4, {}, ""},
    };
    EXPECT_EQ(read_all(source), expected);
}

TEST(CsvReaderTest, InterleavedReadersKeepTheirOwnQuoteState) {
    CsvOptions options;
    options.null_string = "\\N";
    TrickleSource quoted_source("\"\\N\",\"\\N\"\n", 1);
    TrickleSource unquoted_source("\\N,\\N\n", 1);
    CsvReader quoted(quoted_source, options);
    CsvReader unquoted(unquoted_source, options);
    CsvBatch quoted_batch;
    CsvBatch unquoted_batch;
    std::vector<Row> quoted_rows;
    std::vector<Row> unquoted_rows;
    bool quoted_more = true;
    bool unquoted_more = true;
    while (quoted_more || unquoted_more) {
        if (quoted_more && (quoted_more = quoted.next_batch(quoted_batch, 10, 1))) {
            append_rows(quoted_batch, quoted_rows);
        }
        if (unquoted_more && (unquoted_more = unquoted.next_batch(unquoted_batch, 10, 1))) {
            append_rows(unquoted_batch, unquoted_rows);
        }
    }
    EXPECT_EQ(quoted_rows, (std::vector<Row>{{1, 0, 10, 2, {"\\N", "\\N"}, ""}}));
    EXPECT_EQ(unquoted_rows, (std::vector<Row>{{1, 0, 6, 2, {std::nullopt, std::nullopt}, ""}}));
}

TEST(CsvReaderTest, ReadsFromFileDescriptor) {
    char path[] = "/tmp/csv_reader_test_XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    const std::string content = "a,b\n\"c\nd\",e\n";
    ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ASSERT_EQ(lseek(fd, 4, SEEK_SET), 4);
    FdByteSource source(fd);
    const std::vector<Row> expected = {{2, 4, 12, 4, {"c\nd", "e"}, ""}};
    EXPECT_EQ(read_all(source, {}, 4, 2), expected);
    close(fd);
    unlink(path);

    FdByteSource closed(fd);
    char buf[4];
    EXPECT_THROW(closed.read(buf, sizeof buf), std::system_error);
}

// A chunk of a split file: the input ends at the limit, as if the file ended there.
TEST(CsvReaderTest, ReadsAFileDescriptorUpToALimit) {
    char path[] = "/tmp/csv_reader_test_XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    const std::string content = "a,b\n\"c\nd\",e\nf,g\n";
    ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ASSERT_EQ(lseek(fd, 4, SEEK_SET), 4);
    FdByteSource source(fd, 8);
    const std::vector<Row> expected = {{2, 4, 12, 4, {"c\nd", "e"}, ""}};
    EXPECT_EQ(read_all(source, {}, 4, 2), expected);
    char buf[4];
    EXPECT_EQ(source.read(buf, sizeof buf), 0u);
    close(fd);
    unlink(path);
}

TEST(CsvReaderTest, FieldViewsPointIntoTheArena) {
    StringByteSource source("ab,,cd\n\"e\"\n");
    CsvReader reader(source, {});
    CsvBatch batch;
    ASSERT_TRUE(reader.next_batch(batch, 10));
    ASSERT_EQ(batch.rows.size(), 2u);
    EXPECT_EQ(batch.arena, "abcde");
    const CsvField *first = batch.row_fields(batch.rows[0]);
    EXPECT_EQ(first[0].data, batch.arena.data());
    EXPECT_TRUE(first[1].is_null);
    EXPECT_EQ(first[2].data, batch.arena.data() + 2);
    EXPECT_EQ(batch.row_fields(batch.rows[1])[0].data, batch.arena.data() + 4);
    EXPECT_EQ(reader.offset(), 11u);
}

TEST(CsvReaderTest, StreamsLargeInputInBoundedMemory) {
    const std::string pattern = "12345,user_42,\"quoted, text\",,2024-01-01T00:00:00Z\n";
    const uint64_t rows_in_input = (50u << 20) / pattern.size();
    GeneratedSource source("", pattern, rows_in_input * pattern.size());
    CsvReader reader(source, {});
    CsvBatch batch;
    uint64_t rows = 0;
    size_t max_arena_capacity = 0;
    size_t max_fields_capacity = 0;
    while (reader.next_batch(batch, 10000, 1 << 20)) {
        for (const CsvRow &row : batch.rows) {
            ASSERT_TRUE(row.error.empty());
            ASSERT_EQ(row.field_count, 5u);
            ASSERT_EQ(row.line_number, rows + 1);
            ASSERT_EQ(row.start_offset, rows * pattern.size());
            ++rows;
        }
        const CsvField *fields = batch.row_fields(batch.rows.back());
        ASSERT_EQ(std::string(fields[2].data, fields[2].size), "quoted, text");
        max_arena_capacity = std::max(max_arena_capacity, batch.arena.capacity());
        max_fields_capacity = std::max(max_fields_capacity, batch.fields.capacity());
    }
    EXPECT_EQ(rows, rows_in_input);
    EXPECT_EQ(reader.offset(), rows_in_input * pattern.size());
    EXPECT_LE(max_arena_capacity, 1u << 20);
    EXPECT_LE(max_fields_capacity, 5u * 16384);
    EXPECT_LE(reader.parser_buffer_bytes(), 64u << 10);
}

TEST(CsvReaderTest, HugeFieldWithoutNewlineDoesNotBlockOrGrow) {
    const uint64_t total = 256u << 20;
    GeneratedSource source("", std::string(4096, 'x'), total);
    CsvReader reader(source, {});
    CsvBatch batch;
    size_t calls_without_rows = 0;
    size_t max_parser_bytes = 0;
    std::vector<Row> rows;
    // Not blocking is a bound on the work of one call: the bytes it reads, whatever the clock.
    uint64_t most_read_by_one_call = 0;
    for (;;) {
        const uint64_t produced_before = source.produced();
        const bool more = reader.next_batch(batch, 100, 1 << 20);
        most_read_by_one_call =
            std::max(most_read_by_one_call, source.produced() - produced_before);
        if (!more) break;
        if (batch.rows.empty()) ++calls_without_rows;
        append_rows(batch, rows);
        max_parser_bytes = std::max(max_parser_bytes, reader.parser_buffer_bytes());
        EXPECT_LE(batch.arena.capacity(), 1u << 10);
    }
    EXPECT_GE(calls_without_rows, 200u);
    EXPECT_LE(most_read_by_one_call, 1u << 20);  // the byte budget of one call
    EXPECT_LE(max_parser_bytes, (1u << 20) + (320u << 10));
    EXPECT_EQ(rows,
              (std::vector<Row>{{1, 0, total, 1, {}, "field exceeds 1048576 bytes at column 1"}}));
}

TEST(CsvReaderTest, UnterminatedQuoteSwallowingTheFileStaysBounded) {
    const uint64_t total = 1 + 4 * 1000000;
    GeneratedSource source("\"", "abc\n", total);
    CsvReader reader(source, {});
    CsvBatch batch;
    std::vector<Row> rows;
    while (reader.next_batch(batch, 100, 1 << 20)) {
        append_rows(batch, rows);
        EXPECT_LE(reader.parser_buffer_bytes(), (1u << 20) + (320u << 10));
    }
    EXPECT_EQ(
        rows,
        (std::vector<Row>{
            {1, 0, total, 1000001, {}, "unterminated quoted field: its quote opened on line 1"}}));
}

TEST(CsvReaderTest, RandomInputReadsTheSameInPiecesAndWhenResumed) {
    // Short inputs over an alphabet of CSV syntax, to hit the interplay of quotes, line breaks,
    // chunking, limits and resuming that hand-written cases miss.
    const std::string alphabet[] = {"a",  "bc", ",",    "\"",       "\"\"",
                                    "\n", "\r", "\r\n", "\xC3\xA9", "\xFF"};
    uint64_t state = 42;
    const auto random = [&state](uint64_t bound) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return (state >> 33) % bound;
    };
    CsvOptions options;
    options.max_field_bytes = 6;
    options.max_row_fields = 5;
    for (int iteration = 0; iteration < 2000; ++iteration) {
        std::string input;
        const uint64_t tokens = random(40);
        for (uint64_t i = 0; i < tokens; ++i) input += alphabet[random(std::size(alphabet))];
        options.null_string = iteration % 2 ? "bc" : "";
        LineEnd line_end = LineEnd::kUnknown;
        const std::vector<Row> full = read_all(input, options, &line_end);
        uint64_t expected_start = 0;
        for (const Row &row : full) {
            ASSERT_EQ(row.start_offset, expected_start) << testing::PrintToString(input);
            expected_start = row.end_offset;
        }
        ASSERT_EQ(expected_start, input.size()) << testing::PrintToString(input);
        TrickleSource trickle(input, 1 + random(4));
        ASSERT_EQ(read_all(trickle, options, 0, 1, 1, 1 + random(3)), full)
            << testing::PrintToString(input);
        for (size_t i = 0; i < full.size(); ++i) {
            ASSERT_EQ(read_rest(input, options, line_end, full[i].end_offset, full[i].end_line),
                      std::vector<Row>(full.begin() + i + 1, full.end()))
                << testing::PrintToString(input) << " after row " << i;
        }
    }
}

}  // namespace
}  // namespace pg_ingest
