#include "core/discovery/glob_overlap.hpp"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pg_ingest {
namespace {

// A character of a name: a byte, or a Unicode code point, depending on the Reading.
using Symbol = uint32_t;
enum class Reading { bytes, utf8 };
constexpr Symbol kSlash = '/';

Symbol max_symbol(Reading reading) {
    return reading == Reading::bytes ? 0xFF : 0x10FFFF;
}

struct SymbolRange {
    Symbol low;
    Symbol high;
};

// One position of a glob: `*`, or one character out of a set.
struct Token {
    bool star = false;
    bool negated = false;
    std::vector<SymbolRange> ranges;

    bool matches(Symbol symbol) const {
        bool listed = std::any_of(ranges.begin(), ranges.end(), [&](const SymbolRange &range) {
            return range.low <= symbol && symbol <= range.high;
        });
        return listed != negated;
    }
};

using Glob = std::vector<Token>;

Token star_token() {
    Token token;
    token.star = true;
    return token;
}

Token set_token(Symbol low, Symbol high) {
    Token token;
    token.ranges.push_back({low, high});
    return token;
}

// The symbol at `pos`, which moves past it. In the UTF-8 reading an invalid sequence stands for
// its first byte alone, as a one-byte character.
Symbol next_symbol(const std::string &text, size_t &pos, Reading reading) {
    auto lead = static_cast<unsigned char>(text[pos]);
    size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (reading == Reading::bytes || length == 1 || pos + length > text.size()) {
        pos++;
        return lead;
    }
    Symbol value = lead & (0x7F >> length);
    for (size_t i = 1; i < length; i++) {
        auto next = static_cast<unsigned char>(text[pos + i]);
        if ((next & 0xC0) != 0x80) {
            pos++;
            return lead;
        }
        value = value << 6 | (next & 0x3F);
    }
    pos += length;
    return value;
}

void append_symbol(std::string &text, Symbol symbol, Reading reading) {
    if (reading == Reading::bytes || symbol < 0x80) {
        text += static_cast<char>(symbol);
    } else if (symbol < 0x800) {
        text += static_cast<char>(0xC0 | symbol >> 6);
        text += static_cast<char>(0x80 | (symbol & 0x3F));
    } else if (symbol < 0x10000) {
        text += static_cast<char>(0xE0 | symbol >> 12);
        text += static_cast<char>(0x80 | (symbol >> 6 & 0x3F));
        text += static_cast<char>(0x80 | (symbol & 0x3F));
    } else {
        text += static_cast<char>(0xF0 | symbol >> 18);
        text += static_cast<char>(0x80 | (symbol >> 12 & 0x3F));
        text += static_cast<char>(0x80 | (symbol >> 6 & 0x3F));
        text += static_cast<char>(0x80 | (symbol & 0x3F));
    }
}

// A bracket expression starting at text[pos] == '['; nullopt when it has no closing ']' (then
// fnmatch takes the '[' literally). A character class makes it match any character.
std::optional<Token> parse_bracket(const std::string &text, size_t &pos, Reading reading) {
    size_t at = pos + 1;
    Token token;
    if (at < text.size() && (text[at] == '!' || text[at] == '^')) {
        token.negated = true;
        at++;
    }
    bool has_class = false;
    for (bool first = true; at < text.size(); first = false) {
        char c = text[at];
        if (c == ']' && !first) {
            pos = at + 1;
            return has_class ? set_token(0, max_symbol(reading)) : token;
        }
        if (c == '[' && at + 1 < text.size() &&
            std::string_view(":=.").find(text[at + 1]) != std::string_view::npos) {
            size_t end = text.find(std::string{text[at + 1], ']'}, at + 2);
            if (end == std::string::npos) return std::nullopt;
            has_class = true;
            at = end + 2;
            continue;
        }
        if (c == '\\' && at + 1 < text.size()) at++;
        Symbol low = next_symbol(text, at, reading);
        Symbol high = low;
        if (at + 1 < text.size() && text[at] == '-' && text[at + 1] != ']') {
            at++;
            if (text[at] == '\\' && at + 1 < text.size()) at++;
            high = next_symbol(text, at, reading);
        }
        if (low <= high) token.ranges.push_back({low, high});
    }
    return std::nullopt;
}

Glob parse_glob(const std::string &text, Reading reading) {
    Glob glob;
    size_t pos = 0;
    while (pos < text.size()) {
        char c = text[pos];
        if (c == '*') {
            pos++;
            if (glob.empty() || !glob.back().star) glob.push_back(star_token());
            continue;
        }
        if (c == '?') {
            pos++;
            glob.push_back(set_token(0, max_symbol(reading)));
            continue;
        }
        if (c == '[') {
            if (std::optional<Token> bracket = parse_bracket(text, pos, reading)) {
                glob.push_back(*bracket);
                continue;
            }
        }
        if (c == '\\' && pos + 1 < text.size()) pos++;
        Symbol symbol = next_symbol(text, pos, reading);
        glob.push_back(set_token(symbol, symbol));
    }
    return glob;
}

// The characters an example name prefers, best first: it is shown in error messages.
constexpr std::string_view kPreferred =
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_-~";

size_t preference(Symbol symbol) {
    size_t rank = kPreferred.find(static_cast<char>(symbol));
    return symbol < 0x80 && rank != std::string_view::npos ? rank : kPreferred.size() + symbol;
}

// The preferred character of [low, high].
Symbol representative(Symbol low, Symbol high) {
    for (char c : kPreferred) {
        auto symbol = static_cast<Symbol>(c);
        if (low <= symbol && symbol <= high) return symbol;
    }
    return low;
}

// One character out of each interval on which every token of the globs agrees, preferred ones
// first: enough to find any common name. No NUL or '/', which no file name has.
std::vector<Symbol> representatives(const std::vector<Glob> &globs, Reading reading) {
    Symbol max = max_symbol(reading);
    std::vector<Symbol> cuts{1, kSlash, kSlash + 1, max + 1};
    for (const Glob &glob : globs)
        for (const Token &token : glob)
            for (const SymbolRange &range : token.ranges) {
                cuts.push_back(range.low);
                cuts.push_back(range.high + 1);
            }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    std::vector<Symbol> result;
    for (size_t i = 0; i + 1 < cuts.size(); i++) {
        Symbol low = cuts[i];
        if (low == 0 || low > max || low == kSlash) continue;
        result.push_back(representative(low, cuts[i + 1] - 1));
    }
    std::sort(result.begin(), result.end(),
              [](Symbol a, Symbol b) { return preference(a) < preference(b); });
    return result;
}

// The product of the globs' automata, searched breadth first: a state is a position in each glob.
class CommonNameSearch {
  public:
    CommonNameSearch(std::vector<Glob> globs, Reading reading)
        : globs_(std::move(globs)), alphabet_(representatives(globs_, reading)) {}

    // The shortest word every glob matches, if any.
    std::optional<std::vector<Symbol>> run() {
        std::vector<size_t> start(globs_.size(), 0);
        std::vector<uint64_t> queue{encode(start)};
        steps_[queue[0]] = Step{queue[0], kEpsilon};
        for (size_t next = 0; next < queue.size(); next++) {
            std::vector<size_t> state = decode(queue[next]);
            if (accepting(state)) return word_to(queue[next]);
            for (size_t i = 0; i < globs_.size(); i++) {
                if (state[i] == globs_[i].size() || !globs_[i][state[i]].star) continue;
                std::vector<size_t> skipped = state;
                skipped[i]++;
                visit(queue, queue[next], skipped, kEpsilon);
            }
            for (Symbol symbol : alphabet_) {
                std::vector<size_t> moved = state;
                if (consume(moved, symbol)) visit(queue, queue[next], moved, symbol);
            }
        }
        return std::nullopt;
    }

  private:
    static constexpr Symbol kEpsilon = UINT32_MAX;
    struct Step {
        uint64_t from;
        Symbol symbol;
    };

    uint64_t encode(const std::vector<size_t> &state) const {
        uint64_t code = 0;
        for (size_t i = 0; i < globs_.size(); i++) code = code * (globs_[i].size() + 1) + state[i];
        return code;
    }

    std::vector<size_t> decode(uint64_t code) const {
        std::vector<size_t> state(globs_.size());
        for (size_t i = globs_.size(); i-- > 0;) {
            state[i] = code % (globs_[i].size() + 1);
            code /= globs_[i].size() + 1;
        }
        return state;
    }

    bool accepting(const std::vector<size_t> &state) const {
        for (size_t i = 0; i < globs_.size(); i++)
            if (state[i] != globs_[i].size()) return false;
        return true;
    }

    // Every glob reads `symbol`: a star keeps its position, a set moves past a match.
    bool consume(std::vector<size_t> &state, Symbol symbol) const {
        for (size_t i = 0; i < globs_.size(); i++) {
            if (state[i] == globs_[i].size()) return false;
            const Token &token = globs_[i][state[i]];
            if (token.star) continue;
            if (!token.matches(symbol)) return false;
            state[i]++;
        }
        return true;
    }

    void visit(std::vector<uint64_t> &queue, uint64_t from, const std::vector<size_t> &state,
               Symbol symbol) {
        uint64_t code = encode(state);
        if (steps_.emplace(code, Step{from, symbol}).second) queue.push_back(code);
    }

    std::vector<Symbol> word_to(uint64_t code) const {
        std::vector<Symbol> word;
        uint64_t start = encode(std::vector<size_t>(globs_.size(), 0));
        for (; code != start; code = steps_.at(code).from)
            if (steps_.at(code).symbol != kEpsilon) word.push_back(steps_.at(code).symbol);
        std::reverse(word.begin(), word.end());
        return word;
    }

    std::vector<Glob> globs_;
    std::vector<Symbol> alphabet_;
    std::unordered_map<uint64_t, Step> steps_;
};

}  // namespace

std::optional<std::string> common_file_name(const std::string &glob, const std::string &other) {
    for (Reading reading : {Reading::utf8, Reading::bytes}) {
        // A name a source may take is not empty and does not start with '.'.
        std::vector<Glob> globs{parse_glob(glob, reading), parse_glob(other, reading),
                                parse_glob("[!.]*", reading)};
        std::optional<std::vector<Symbol>> word = CommonNameSearch(std::move(globs), reading).run();
        if (!word) continue;
        std::string name;
        for (Symbol symbol : *word) append_symbol(name, symbol, reading);
        return name;
    }
    return std::nullopt;
}

std::string escape_glob(const std::string &literal) {
    std::string glob;
    for (char c : literal) {
        if (c == '*' || c == '?' || c == '[' || c == '\\') glob += '\\';
        glob += c;
    }
    return glob;
}

}  // namespace pg_ingest
