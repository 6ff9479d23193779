#include "timespan.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace natd {

namespace {

struct Unit {
        std::string_view name;
        uint64_t us;
};

constexpr uint64_t usec = 1;
constexpr uint64_t msec = 1000 * usec;
constexpr uint64_t sec = 1000 * msec;
constexpr uint64_t minute = 60 * sec;
constexpr uint64_t hour = 60 * minute;
constexpr uint64_t day = 24 * hour;

// systemd's spellings, case-sensitive like systemd ("M" would be months there).
constexpr std::array<Unit, 19> units{{
        {"us", usec},       {"usec", usec},      {"ms", msec},     {"msec", msec}, {"s", sec},
        {"sec", sec},       {"second", sec},     {"seconds", sec}, {"m", minute},  {"min", minute},
        {"minute", minute}, {"minutes", minute}, {"h", hour},      {"hr", hour},   {"hour", hour},
        {"hours", hour},    {"d", day},          {"day", day},     {"days", day},
}};

std::optional<uint64_t> unit_us(std::string_view name) {
        for (const auto& u : units)
                if (u.name == name)
                        return u.us;
        return std::nullopt;
}

// The largest value std::chrono::microseconds holds.
constexpr auto max_us =
        static_cast<uint64_t>(std::numeric_limits<std::chrono::microseconds::rep>::max());

bool is_space(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
}
bool is_digit(char c) {
        return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// The reason text is not a time span; parse_timespan() adds the text.
Result<Timeout> parse(std::string_view text) {
        while (!text.empty() && is_space(text.front()))
                text.remove_prefix(1);
        while (!text.empty() && is_space(text.back()))
                text.remove_suffix(1);
        if (text.empty())
                return Error{"empty"};
        if (text == "infinity")
                return Timeout{};

        uint64_t total = 0;
        bool first = true;
        size_t i = 0;
        while (i < text.size()) {
                if (text[i] == '-')
                        return Error{"negative time spans are not allowed"};
                if (!is_digit(text[i]))
                        return Error{"expected a number at '" + std::string(text.substr(i)) + "'"};
                const size_t int_start = i;
                while (i < text.size() && is_digit(text[i]))
                        ++i;
                const std::string_view integer = text.substr(int_start, i - int_start);
                // systemd allows fractions ("1.5h"); below a microsecond they are
                // truncated, as systemd does.
                std::string_view fraction;
                if (i < text.size() && text[i] == '.') {
                        const size_t frac_start = ++i;
                        while (i < text.size() && is_digit(text[i]))
                                ++i;
                        fraction = text.substr(frac_start, i - frac_start);
                        if (fraction.empty())
                                return Error{"expected digits after '.'"};
                }
                while (i < text.size() && is_space(text[i]))
                        ++i;
                const size_t unit_start = i;
                while (i < text.size() && is_alpha(text[i]))
                        ++i;
                const std::string_view unit_name = text.substr(unit_start, i - unit_start);

                uint64_t unit = sec;
                if (unit_name.empty()) {
                        // "30" is 30s, but "1h 30" is more likely a typo than 1h 30s.
                        if (!first || i < text.size())
                                return Error{"missing unit after '" + std::string(integer) +
                                             (fraction.empty() ? "" : ".") + std::string(fraction) +
                                             "'"};
                } else if (auto u = unit_us(unit_name)) {
                        unit = *u;
                } else {
                        return Error{"unknown unit '" + std::string(unit_name) + "'"};
                }

                uint64_t n = 0;
                if (std::from_chars(integer.data(), integer.data() + integer.size(), n).ec !=
                            std::errc{} ||
                    n > max_us / unit)
                        return Error{"too large"};
                uint64_t value = n * unit;
                uint64_t scale = unit;
                for (const char c : fraction) {
                        scale /= 10;
                        value += static_cast<uint64_t>(c - '0') * scale;  // < unit: no overflow
                }
                if (value > max_us - total)
                        return Error{"too large"};
                total += value;
                first = false;
                while (i < text.size() && is_space(text[i]))
                        ++i;
        }
        return Timeout{std::chrono::microseconds{static_cast<int64_t>(total)}};
}

}  // namespace

Result<Timeout> parse_timespan(std::string_view text) {
        auto r = parse(text);
        if (!r)
                return Error{"invalid time span '" + std::string(text) + "': " + r.error()};
        return r;
}

// Largest units first, zero components left out: 90s is "1min 30s". Every
// output parses back to the same value.
std::string format_timespan(const Timeout& t) {
        if (!t)
                return "infinity";
        const int64_t count = t->count();
        // Negative spans cannot be parsed, but a Timeout can hold one; the
        // magnitude is computed unsigned so that INT64_MIN does not overflow.
        uint64_t rest = count < 0 ? 0 - static_cast<uint64_t>(count) : static_cast<uint64_t>(count);
        if (rest == 0)
                return "0s";
        static constexpr std::array<Unit, 6> parts{{
                {"d", day},
                {"h", hour},
                {"min", minute},
                {"s", sec},
                {"ms", msec},
                {"us", usec},
        }};
        std::string s;
        for (const auto& p : parts) {
                if (rest < p.us)
                        continue;
                if (!s.empty())
                        s += ' ';
                s += std::to_string(rest / p.us) + std::string(p.name);
                rest %= p.us;
        }
        return count < 0 ? "-" + s : s;
}

}  // namespace natd
