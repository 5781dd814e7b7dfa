#include "event_csv.hpp"

#include <array>
#include <charconv>
#include <cstring>

namespace eventgen {

const std::string_view kColumnNames[kColumnCount] = {
    "event_id", "user_id",  "product_id",  "event_type",    "event_time",
    "price",    "category", "user_device", "user_location",
};

namespace {

std::string_view integer_text(int64_t value, char *buffer, size_t size) {
    const auto result = std::to_chars(buffer, buffer + size, value);
    return {buffer, static_cast<size_t>(result.ptr - buffer)};
}

// Cents as dollars with exactly two decimals, e.g. 1999 -> "19.99".
std::string_view price_text(int64_t cents, char *buffer, size_t size) {
    const auto result = std::to_chars(buffer, buffer + size - 3, cents / 100);
    char *p = result.ptr;
    *p++ = '.';
    *p++ = static_cast<char>('0' + cents % 100 / 10);
    *p++ = static_cast<char>('0' + cents % 10);
    return {buffer, static_cast<size_t>(p - buffer)};
}

// Bytes that force a field into quotes.
constexpr std::array<bool, 256> kNeedsQuoting = [] {
    std::array<bool, 256> table{};
    table[','] = table['"'] = table['\n'] = table['\r'] = true;
    return table;
}();

bool needs_quoting(std::string_view text) {
    bool any = false;
    for (char c : text) any |= kNeedsQuoting[static_cast<unsigned char>(c)];
    return any;
}

char *write_quoted(std::string_view text, bool close_quote, char *out) {
    *out++ = '"';
    for (char c : text) {
        if (c == '"') *out++ = '"';
        *out++ = c;
    }
    if (close_quote) *out++ = '"';
    return out;
}

}  // namespace

RowFields EventFieldFormatter::fields_of(const Event &event) {
    RowFields row;
    format_uuid(event.id, event_id_);
    timestamps_.format(event.time_micros, event_time_);
    row.field[kEventIdColumn] = {event_id_, kUuidTextLength};
    row.field[kUserIdColumn] = integer_text(event.user_id, user_id_, sizeof user_id_);
    row.field[kProductIdColumn] = integer_text(event.product_id, product_id_, sizeof product_id_);
    row.field[kEventTypeColumn] = kEventTypeNames[static_cast<size_t>(event.type)];
    row.field[kEventTimeColumn] = {event_time_, kTimestampTextLength};
    row.field[kPriceColumn] = price_text(event.price_cents, price_, sizeof price_);
    row.field[kCategoryColumn] = event.category;
    row.field[kDeviceColumn] = event.device;
    row.field[kLocationColumn] = event.location;
    return row;
}

void append_csv_header(OutputBuffer &out) {
    for (size_t i = 0; i < kColumnCount; ++i) {
        if (i > 0) out.append(',');
        out.append(kColumnNames[i]);
    }
    out.append('\n');
}

void append_csv_row(const RowFields &row, OutputBuffer &out) {
    // One reservation for the row: every field quoted with every byte doubled, plus separators.
    size_t worst_case = 1;
    for (size_t i = 0; i < row.count; ++i) worst_case += 2 * row.field[i].size() + 3;
    char *const start = out.reserve(worst_case);
    char *p = start;
    for (size_t i = 0; i < row.count; ++i) {
        if (i > 0) *p++ = ',';
        const std::string_view text = row.field[i];
        const bool leave_open = row.leave_last_quote_open && i + 1 == row.count;
        if (leave_open || needs_quoting(text)) {
            p = write_quoted(text, !leave_open, p);
        } else {
            std::memcpy(p, text.data(), text.size());
            p += text.size();
        }
    }
    if (!row.leave_last_quote_open) *p++ = '\n';
    out.commit(static_cast<size_t>(p - start));
}

}  // namespace eventgen
