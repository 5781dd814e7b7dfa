// Malformed rows on demand, of the kinds real feeds contain, so that tests can check that the
// ingester rejects exactly these lines and loads every other one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "event_csv.hpp"
#include "file_format.hpp"
#include "random_engine.hpp"
#include "uuid.hpp"

namespace eventgen {

enum class BadRowKind : uint8_t {
    kWrongColumnCount,   // 8 or 10 fields
    kNonNumericId,       // user_id or product_id is not an integer
    kBadTimestamp,       // event_time is not a valid timestamptz (e.g. month 13, hour 25)
    kBadPrice,           // price is not a number (e.g. "abc", "$19.99")
    kDuplicateEventId,   // a good row but for its event_id, which an earlier good row has
    kInvalidUtf8,        // a text field contains a byte sequence that is not UTF-8
    kUnterminatedQuote,  // the file's last line opens a quoted field that never closes
    // JSON Lines only (JsonRowFault):
    kTruncatedObject,  // an object cut short
    kArrayLine,        // an array, not an object
    kWrongType,        // a value its column's type refuses (null into a NOT NULL text)
    kMissingKey,       // a column left out: its default, NULL, breaks NOT NULL
    kExtraKey,         // a key no column has (rejected under on_new_columns = fail)
};
constexpr size_t kBadRowKindCount = 12;

// Names used in the manifest, indexed by BadRowKind.
extern const std::string_view kBadRowKindNames[kBadRowKindCount];

// The kinds a file of `format` can have, in the order its manifest lists them.
std::vector<BadRowKind> kinds_of(FileFormat format);

class BadRowInjector {
  public:
    // Each row goes bad with probability `fraction`; its kind is then uniform among those
    // possible in `format`, except that a bad last row of a CSV file is always an unterminated
    // quote.
    BadRowInjector(RandomEngine rng, double fraction, FileFormat format = FileFormat::kCsv);

    // Forgets the ids of the previous file: duplicates repeat ids within one file.
    void start_file();

    // Maybe spoils `row` in place (its views may then point into this object until the next
    // call) and returns the kind; nullopt leaves it good.
    std::optional<BadRowKind> maybe_spoil(RowFields &row, bool last_row_of_file);

    // The id of a row that was written good, so that a later row can duplicate it.
    void remember_good_id(const Uuid &id);

  private:
    BadRowKind pick_kind(bool last_row_of_file);
    void spoil(BadRowKind kind, RowFields &row);
    // One kind each; the altered field's text is in scratch_.
    void change_column_count(RowFields &row);
    void spoil_id(RowFields &row);
    void spoil_timestamp(RowFields &row);
    void spoil_price(RowFields &row);
    void insert_invalid_utf8(RowFields &row);
    void set_json_fault(JsonRowFault fault, RowFields &row);

    static constexpr size_t kRememberedIds = 64;

    RandomEngine rng_;
    double fraction_;
    FileFormat format_;
    Uuid good_ids_[kRememberedIds];
    size_t good_id_count_ = 0;
    size_t next_good_id_ = 0;
    std::string scratch_;  // text of the one altered field
    char id_text_[kUuidTextLength];
};

}  // namespace eventgen
