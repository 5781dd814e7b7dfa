#include "bad_rows.hpp"

#include <iterator>

namespace eventgen {

const std::string_view kBadRowKindNames[kBadRowKindCount] = {
    "wrong_column_count", "non_numeric_id", "bad_timestamp",      "bad_price",
    "duplicate_event_id", "invalid_utf8",   "unterminated_quote", "truncated_object",
    "array_line",         "wrong_type",     "missing_key",        "extra_key",
};

namespace {

// Byte sequences PostgreSQL and the CSV reader reject as UTF-8: bytes that never occur, a lead
// byte without its continuation, an overlong '/', and an encoded surrogate.
constexpr std::string_view kInvalidUtf8[] = {"\xff", "\xfe", "\xc3\x28", "\xc0\xaf",
                                             "\xed\xa0\x80"};

// Extra last fields of a 10-field row: a stray column and a trailing comma.
constexpr std::string_view kExtraFields[] = {"promo_2026", ""};

// What a row other than the last of a file can become.
constexpr BadRowKind kKindsInsideFile[] = {
    BadRowKind::kWrongColumnCount, BadRowKind::kNonNumericId,     BadRowKind::kBadTimestamp,
    BadRowKind::kBadPrice,         BadRowKind::kDuplicateEventId, BadRowKind::kInvalidUtf8,
};
constexpr BadRowKind kKindsWithoutDuplicate[] = {
    BadRowKind::kWrongColumnCount, BadRowKind::kNonNumericId, BadRowKind::kBadTimestamp,
    BadRowKind::kBadPrice,         BadRowKind::kInvalidUtf8,
};
// What a JSON Lines row can become, anywhere in a file (no row spans lines).
constexpr BadRowKind kJsonKinds[] = {
    BadRowKind::kTruncatedObject,  BadRowKind::kArrayLine, BadRowKind::kWrongType,
    BadRowKind::kMissingKey,       BadRowKind::kExtraKey,  BadRowKind::kInvalidUtf8,
    BadRowKind::kDuplicateEventId,
};

// Offsets in "YYYY-MM-DD HH:MM:SS.ffffff+00".
constexpr size_t kMonthOffset = 5;
constexpr size_t kDayOffset = 8;
constexpr size_t kHourOffset = 11;
constexpr size_t kMinuteOffset = 14;

}  // namespace

std::vector<BadRowKind> kinds_of(FileFormat format) {
    if (format == FileFormat::kJsonl) return {std::begin(kJsonKinds), std::end(kJsonKinds)};
    std::vector<BadRowKind> kinds(std::begin(kKindsInsideFile), std::end(kKindsInsideFile));
    kinds.push_back(BadRowKind::kUnterminatedQuote);
    return kinds;
}

BadRowInjector::BadRowInjector(RandomEngine rng, double fraction, FileFormat format)
    : rng_(rng), fraction_(fraction), format_(format) {
    scratch_.reserve(256);
}

void BadRowInjector::start_file() {
    good_id_count_ = 0;
    next_good_id_ = 0;
}

void BadRowInjector::remember_good_id(const Uuid &id) {
    good_ids_[next_good_id_] = id;
    next_good_id_ = (next_good_id_ + 1) % kRememberedIds;
    if (good_id_count_ < kRememberedIds) ++good_id_count_;
}

std::optional<BadRowKind> BadRowInjector::maybe_spoil(RowFields &row, bool last_row_of_file) {
    if (fraction_ <= 0 || !rng_.chance(fraction_)) return std::nullopt;
    const BadRowKind kind = pick_kind(last_row_of_file);
    spoil(kind, row);
    return kind;
}

BadRowKind BadRowInjector::pick_kind(bool last_row_of_file) {
    if (format_ == FileFormat::kJsonl) {
        // Without an earlier good row, the duplicate (listed last) is left out.
        const uint32_t kinds = static_cast<uint32_t>(std::size(kJsonKinds)) - (good_id_count_ == 0);
        return kJsonKinds[rng_.below(kinds)];
    }
    if (last_row_of_file) return BadRowKind::kUnterminatedQuote;
    // A duplicate needs an earlier good row in this file; the other kinds are always possible.
    if (good_id_count_ == 0)
        return kKindsWithoutDuplicate[rng_.below(std::size(kKindsWithoutDuplicate))];
    return kKindsInsideFile[rng_.below(std::size(kKindsInsideFile))];
}

void BadRowInjector::spoil(BadRowKind kind, RowFields &row) {
    scratch_.clear();
    switch (kind) {
        case BadRowKind::kWrongColumnCount:
            return change_column_count(row);
        case BadRowKind::kNonNumericId:
            return spoil_id(row);
        case BadRowKind::kBadTimestamp:
            return spoil_timestamp(row);
        case BadRowKind::kBadPrice:
            return spoil_price(row);
        case BadRowKind::kDuplicateEventId:
            format_uuid(good_ids_[rng_.below(static_cast<uint32_t>(good_id_count_))], id_text_);
            row.field[kEventIdColumn] = {id_text_, kUuidTextLength};
            return;
        case BadRowKind::kInvalidUtf8:
            return insert_invalid_utf8(row);
        case BadRowKind::kUnterminatedQuote:
            row.leave_last_quote_open = true;
            return;
        case BadRowKind::kTruncatedObject:
            return set_json_fault(JsonRowFault::kTruncated, row);
        case BadRowKind::kArrayLine:
            return set_json_fault(JsonRowFault::kArray, row);
        case BadRowKind::kWrongType:
            return set_json_fault(JsonRowFault::kWrongType, row);
        case BadRowKind::kMissingKey:
            return set_json_fault(JsonRowFault::kMissingKey, row);
        case BadRowKind::kExtraKey:
            return set_json_fault(JsonRowFault::kExtraKey, row);
    }
}

void BadRowInjector::set_json_fault(JsonRowFault fault, RowFields &row) {
    row.json_fault = fault;
    row.fault_position =
        fault == JsonRowFault::kTruncated ? rng_.below(1 << 16) : rng_.below(kColumnCount);
}

void BadRowInjector::change_column_count(RowFields &row) {
    if (rng_.below(2) == 0) {
        row.count = kColumnCount - 1;
    } else {
        row.field[kColumnCount] = kExtraFields[rng_.below(std::size(kExtraFields))];
        row.count = kColumnCount + 1;
    }
}

void BadRowInjector::spoil_id(RowFields &row) {
    const size_t column = rng_.below(2) == 0 ? kUserIdColumn : kProductIdColumn;
    const std::string_view id = row.field[column];
    switch (rng_.below(3)) {
        case 0:  // a prefixed key from another system
            scratch_.append(column == kUserIdColumn ? "user_" : "sku_").append(id);
            break;
        case 1:
            scratch_ = "N/A";
            break;
        default:  // letter O typed for a zero-like digit
            scratch_.assign(id);
            scratch_[scratch_.size() / 2] = 'O';
            break;
    }
    row.field[column] = scratch_;
}

void BadRowInjector::spoil_timestamp(RowFields &row) {
    scratch_.assign(row.field[kEventTimeColumn]);
    switch (rng_.below(5)) {
        case 0:
            scratch_.replace(kMonthOffset, 2, "13");
            break;
        case 1:
            scratch_.replace(kDayOffset, 2, "32");
            break;
        case 2:
            scratch_.replace(kMonthOffset, 5, "02-30");
            break;
        case 3:
            scratch_.replace(kHourOffset, 2, "25");
            break;
        default:
            scratch_.replace(kMinuteOffset, 2, "61");
            break;
    }
    row.field[kEventTimeColumn] = scratch_;
}

void BadRowInjector::spoil_price(RowFields &row) {
    const std::string_view price = row.field[kPriceColumn];
    switch (rng_.below(4)) {
        case 0:
            scratch_ = "abc";
            break;
        case 1:
            scratch_.append("$").append(price);
            break;
        case 2:
            scratch_.append(price).append(" USD");
            break;
        default:  // decimal comma; the row writer quotes it
            scratch_.assign(price);
            scratch_[scratch_.find('.')] = ',';
            break;
    }
    row.field[kPriceColumn] = scratch_;
}

void BadRowInjector::insert_invalid_utf8(RowFields &row) {
    const size_t column = kCategoryColumn + rng_.below(3);  // category, device or location
    const std::string_view text = row.field[column];
    size_t position = rng_.below(static_cast<uint32_t>(text.size() + 1));
    // Insert between characters, not inside a multi-byte one such as the "ã" of São Paulo.
    while (position < text.size() && (static_cast<unsigned char>(text[position]) & 0xC0) == 0x80)
        --position;
    scratch_.assign(text.substr(0, position))
        .append(kInvalidUtf8[rng_.below(std::size(kInvalidUtf8))])
        .append(text.substr(position));
    row.field[column] = scratch_;
}

}  // namespace eventgen
