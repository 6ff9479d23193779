// The kinds of value natd.conf's keys take: how each is read from the text
// of an assignment and written back. A key's row in the schema
// (config-schema.hpp) names one of these; a new kind of value is a new
// function here, and the parser needs no change.
#pragma once

#include <charconv>
#include <concepts>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "ipv4.hpp"
#include "nat-options.hpp"
#include "result.hpp"
#include "selector.hpp"
#include "timespan.hpp"

namespace natd {

template <typename T>
struct ValueType {
        // Refusals are whole sentences naming the key:
        // "invalid CIDR '10.0.0.0/33' in Subnets=: prefix length must be 0..32".
        std::function<Result<T>(std::string_view text, std::string_view key)> parse;
        // What parse() reads back as the same value.
        std::function<std::string(const T& value)> format;
};

// "invalid WHAT 'TEXT' in KEY=: REASON".
Error invalid_value(std::string_view what, std::string_view text, std::string_view key,
                    std::string_view reason);

ValueType<Selector> selector_value();  // interface name, altname or MAC
// A selector, or "none" (held as nullopt).
ValueType<std::optional<Selector>> selector_or_none_value();
ValueType<Timeout> timespan_value();       // "30s", "1h 30min", "infinity"
ValueType<Ipv4Cidr> subnet_value();        // a network: host bits are an error
ValueType<Ipv4Address> address_value();    // a dotted quad
ValueType<PortRange> port_range_value();   // "1024-65535"
ValueType<Ipv4Endpoint> endpoint_value();  // "127.0.0.1:9647"
// "http://ADDRESS[:PORT]" with a literal IPv4 or bracketed IPv6 address
// (no name to resolve: natd must not wait on DNS), read back without a
// trailing '/'.
ValueType<std::string> http_endpoint_value();
// An absolute path of a directory, without "." or ".." components.
ValueType<std::filesystem::path> directory_value();
ValueType<ClampMss> clamp_mss_value();  // "auto", "no" or an MSS in bytes
// "auto" (held as 0) or a decimal integer within [min, max].
ValueType<uint32_t> auto_number_value(uint32_t min, uint32_t max);
// systemd's booleans: yes/no, true/false, on/off, 1/0; written yes/no.
ValueType<bool> boolean_value();
// A time span ("1s", "200ms") in whole steps of `step_msec`, within
// [min_msec, max_msec], held in milliseconds.
ValueType<uint32_t> milliseconds_value(uint32_t min_msec, uint32_t max_msec, uint32_t step_msec);
// An EC2 resource id: PREFIX-, then 8 or 17 lower-case hex digits ("rtb-0a1b2c3d").
ValueType<std::string> resource_id_value(std::string_view prefix);
// An AWS API endpoint: https://HOST[:PORT], or http://HOST[:PORT] for a test
// endpoint; read back without a trailing '/'.
ValueType<std::string> api_endpoint_value();
// A time span ("350s", "5min") of whole seconds within [min, max], held in
// seconds.
ValueType<uint32_t> seconds_value(uint32_t min, uint32_t max);

// One of `names`, spelled exactly so ("drop", "accept").
template <typename E>
ValueType<E> enum_value(std::vector<std::pair<std::string, E>> names) {
        auto table =
                std::make_shared<const std::vector<std::pair<std::string, E>>>(std::move(names));
        return {
                [table](std::string_view text, std::string_view key) -> Result<E> {
                        std::string expected;
                        for (const auto& [name, value] : *table) {
                                if (name == text)
                                        return value;
                                expected += expected.empty() ? "" : "|";
                                expected += name;
                        }
                        return invalid_value("value", text, key, "expected " + expected);
                },
                [table](const E& value) -> std::string {
                        for (const auto& [name, v] : *table)
                                if (v == value)
                                        return name;
                        return {};
                },
        };
}

// A decimal integer within [min, max].
template <std::integral N>
ValueType<N> number_value(N min, N max) {
        return {
                [min, max](std::string_view text, std::string_view key) -> Result<N> {
                        const std::string range = std::to_string(min) + ".." + std::to_string(max);
                        N n{};
                        const char* end = text.data() + text.size();
                        const auto [ptr, err] = std::from_chars(text.data(), end, n);
                        if (err == std::errc::result_out_of_range ||
                            (ptr == end && (n < min || n > max)))
                                return invalid_value("number", text, key, "out of range " + range);
                        if (err != std::errc{} || ptr != end)
                                return invalid_value("number", text, key,
                                                     "expected a decimal integer " + range);
                        return n;
                },
                [](const N& n) { return std::to_string(n); },
        };
}

}  // namespace natd
