// systemd-style time spans, as WaitTimeoutSec= takes them.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "result.hpp"

namespace natd {

// nullopt means "infinity".
using Timeout = std::optional<std::chrono::microseconds>;

// "30" (seconds), "30s", "500ms", "5min", "1h 30min", "2min30s",
// "infinity". Units: us usec, ms msec, s sec second seconds,
// m min minute minutes, h hr hour hours, d day days. Whitespace may separate
// components. Negative, empty, overflowing or unknown-unit input is an error.
Result<Timeout> parse_timespan(std::string_view text);

std::string format_timespan(const Timeout& t);  // "30s", "5min", "infinity"

}  // namespace natd
