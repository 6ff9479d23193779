#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "timespan.hpp"

using natd::format_timespan;
using natd::parse_timespan;
using natd::Timeout;
using std::chrono::microseconds;

namespace {

constexpr int64_t S = 1000000;
constexpr int64_t MIN = 60 * S;
constexpr int64_t H = 60 * MIN;
constexpr int64_t D = 24 * H;
constexpr int64_t MAX = std::numeric_limits<int64_t>::max();

}  // namespace

TEST_CASE("parse_timespan accepts systemd time spans", "[timespan]") {
        struct Row {
                std::string text;
                int64_t us;
        };
        const std::vector<Row> rows{
                {"0", 0},
                {"30", 30 * S},
                {" 30 ", 30 * S},
                {"30s", 30 * S},
                {"30 s", 30 * S},
                {"30sec", 30 * S},
                {"1second", S},
                {"2seconds", 2 * S},
                {"500ms", 500000},
                {"500msec", 500000},
                {"7us", 7},
                {"7usec", 7},
                {"5m", 5 * MIN},
                {"5min", 5 * MIN},
                {"1minute", MIN},
                {"5minutes", 5 * MIN},
                {"2h", 2 * H},
                {"2hr", 2 * H},
                {"1hour", H},
                {"3hours", 3 * H},
                {"1d", D},
                {"1day", D},
                {"2days", 2 * D},
                {"1h 30min", H + 30 * MIN},
                {"1h30min", H + 30 * MIN},
                {"2min30s", 2 * MIN + 30 * S},
                {"2min 30s", 2 * MIN + 30 * S},
                {"1d 2h 3min 4s 5ms 6us", D + 2 * H + 3 * MIN + 4 * S + 5000 + 6},
                {"1s 1s", 2 * S},  // as in systemd, components simply add up
                {"\t1h\t30min\t", H + 30 * MIN},
                {"007s", 7 * S},
                // Fractions, as systemd takes them; below a microsecond truncated.
                {"1.5s", 1500000},
                {"1.5", 1500000},
                {"0.5min", 30 * S},
                {"1.25h", H + 15 * MIN},
                {"1.0000001s", S},
                {"1.5us", 1},
                {"9223372036854775807us", MAX},
                {"9223372036854s", 9223372036854 * S},
                {"106751991days", 106751991 * D},
        };
        for (const auto& row : rows) {
                CAPTURE(row.text);
                auto r = parse_timespan(row.text);
                REQUIRE(r.ok());
                REQUIRE(r.value().has_value());
                CHECK(r.value()->count() == row.us);
        }
}

TEST_CASE("parse_timespan: infinity", "[timespan]") {
        for (const std::string text : {"infinity", " infinity "}) {
                CAPTURE(text);
                auto r = parse_timespan(text);
                REQUIRE(r.ok());
                CHECK_FALSE(r.value().has_value());
                CHECK(r.value() == Timeout{});
        }
}

TEST_CASE("parse_timespan rejects malformed time spans", "[timespan]") {
        struct Row {
                std::string text;
                std::string reason;
        };
        const std::vector<Row> rows{
                {"", "empty"},
                {"   ", "empty"},
                {"-5s", "negative time spans are not allowed"},
                {"1h -5s", "negative time spans are not allowed"},
                {"5 parsecs", "unknown unit 'parsecs'"},
                {"5S", "unknown unit 'S'"},
                {"5M", "unknown unit 'M'"},
                {"5w", "unknown unit 'w'"},
                {"5secs", "unknown unit 'secs'"},
                {"infinite", "expected a number at 'infinite'"},
                {"Infinity", "expected a number at 'Infinity'"},
                {"infinity 5s", "expected a number at 'infinity 5s'"},
                {"s", "expected a number at 's'"},
                {"+5s", "expected a number at '+5s'"},
                {".5s", "expected a number at '.5s'"},
                {"5s,", "expected a number at ','"},
                {"5s;1s", "expected a number at ';1s'"},
                {"1.s", "expected digits after '.'"},
                {"1.", "expected digits after '.'"},
                {"1h 30", "missing unit after '30'"},
                {"5 5", "missing unit after '5'"},
                {"5 5s", "missing unit after '5'"},
                {"1.5 2s", "missing unit after '1.5'"},
                {"9223372036854775808us", "too large"},
                {"99999999999999999999999", "too large"},
                {"9223372036855s", "too large"},
                {"106751992days", "too large"},
                {"9223372036854775807us 1us", "too large"},
        };
        for (const auto& row : rows) {
                CAPTURE(row.text);
                auto r = parse_timespan(row.text);
                REQUIRE_FALSE(r.ok());
                CHECK(r.error() == "invalid time span '" + row.text + "': " + row.reason);
        }
}

TEST_CASE("format_timespan", "[timespan]") {
        struct Row {
                Timeout t;
                std::string text;
        };
        const std::vector<Row> rows{
                {Timeout{}, "infinity"},
                {microseconds{0}, "0s"},
                {microseconds{1}, "1us"},
                {microseconds{1500}, "1ms 500us"},
                {microseconds{30 * S}, "30s"},
                {microseconds{90 * S}, "1min 30s"},
                {microseconds{5 * MIN}, "5min"},
                {microseconds{H}, "1h"},
                {microseconds{H + 30 * MIN}, "1h 30min"},
                {microseconds{D}, "1d"},
                {microseconds{3 * D + 1}, "3d 1us"},
                {microseconds{1500000}, "1s 500ms"},
                {microseconds{-30 * S}, "-30s"},
                {microseconds{MAX}, "106751991d 4h 54s 775ms 807us"},
                {microseconds{std::numeric_limits<int64_t>::min()},
                 "-106751991d 4h 54s 775ms 808us"},
        };
        for (const auto& row : rows) {
                CAPTURE(row.text);
                CHECK(format_timespan(row.t) == row.text);
        }
}

TEST_CASE("format_timespan output parses back", "[timespan]") {
        const std::vector<Timeout> values{
                Timeout{},           microseconds{0},   microseconds{1},
                microseconds{999},   microseconds{S},   microseconds{90 * S},
                microseconds{D + 1}, microseconds{MAX}, microseconds{12345678901234},
        };
        for (const auto& t : values) {
                const auto text = format_timespan(t);
                CAPTURE(text);
                auto r = parse_timespan(text);
                REQUIRE(r.ok());
                CHECK(r.value() == t);
        }
}
