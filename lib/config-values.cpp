#include "config-values.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>

#include "ec2-query.hpp"

namespace natd {

namespace {

// The value parsers say "invalid THING 'TEXT': REASON". Config errors name
// the key between the text and the reason, so keep only REASON (or
// everything, should a parser ever word it differently: better repetitive
// than lost).
std::string reason_of(const std::string& message, std::string_view text) {
        std::string marker = "'";
        marker += text;
        marker += "': ";
        const size_t pos = message.find(marker);
        return pos == std::string::npos ? message : message.substr(pos + marker.size());
}

}  // namespace

Error invalid_value(std::string_view what, std::string_view text, std::string_view key,
                    std::string_view reason) {
        std::string message = "invalid ";
        message += what;
        message += " '";
        message += text;
        message += "' in ";
        message += key;
        message += "=: ";
        message += reason;
        return Error{std::move(message)};
}

ValueType<Selector> selector_value() {
        return {
                [](std::string_view text, std::string_view key) -> Result<Selector> {
                        auto s = Selector::parse(text);
                        if (s)
                                return s;
                        // Selector::parse() reads a ':' as "this is a MAC address".
                        const bool mac = text.find(':') != std::string_view::npos;
                        return invalid_value(mac ? "MAC address" : "selector", text, key,
                                             reason_of(s.error(), text));
                },
                [](const Selector& s) { return s.str(); },
        };
}

ValueType<std::optional<Selector>> selector_or_none_value() {
        return {
                [selector = selector_value()](std::string_view text, std::string_view key)
                        -> Result<std::optional<Selector>> {
                        if (text == "none")
                                return std::optional<Selector>{};
                        auto s = selector.parse(text, key);
                        if (!s)
                                return s.failure();
                        return std::optional<Selector>{std::move(s).value()};
                },
                [](const std::optional<Selector>& s) { return s ? s->str() : std::string("none"); },
        };
}

ValueType<Timeout> timespan_value() {
        return {
                [](std::string_view text, std::string_view key) -> Result<Timeout> {
                        auto t = parse_timespan(text);
                        if (t)
                                return t;
                        return invalid_value("time span", text, key, reason_of(t.error(), text));
                },
                [](const Timeout& t) { return format_timespan(t); },
        };
}

ValueType<Ipv4Cidr> subnet_value() {
        return {
                [](std::string_view text, std::string_view key) -> Result<Ipv4Cidr> {
                        auto cidr = Ipv4Cidr::parse(text);
                        if (!cidr)
                                return invalid_value("CIDR", text, key,
                                                     reason_of(cidr.error(), text));
                        // An interface address pasted where a subnet belongs: say
                        // which subnet it is in rather than guess.
                        if (!cidr.value().is_network()) {
                                std::string message = "'";
                                message += text;
                                message += "' in ";
                                message += key;
                                message += "= has host bits set; did you mean ";
                                message += cidr.value().network().str();
                                message += "?";
                                return Error{std::move(message)};
                        }
                        return cidr;
                },
                [](const Ipv4Cidr& c) { return c.str(); },
        };
}

ValueType<Ipv4Address> address_value() {
        return {
                [](std::string_view text, std::string_view key) -> Result<Ipv4Address> {
                        auto a = Ipv4Address::parse(text);
                        if (a)
                                return a;
                        return invalid_value("address", text, key, reason_of(a.error(), text));
                },
                [](const Ipv4Address& a) { return a.str(); },
        };
}

ValueType<Ipv4Endpoint> endpoint_value() {
        return {
                [](std::string_view text, std::string_view key) -> Result<Ipv4Endpoint> {
                        auto e = Ipv4Endpoint::parse(text);
                        if (e)
                                return e;
                        return invalid_value("address", text, key, reason_of(e.error(), text));
                },
                [](const Ipv4Endpoint& e) { return e.str(); },
        };
}

ValueType<std::string> http_endpoint_value() {
        return {
                [](std::string_view text, std::string_view key) -> Result<std::string> {
                        constexpr std::string_view scheme = "http://";
                        auto bad = [&](const char* why) {
                                return invalid_value("URL", text, key, why);
                        };
                        if (!text.starts_with(scheme))
                                return bad(
                                        "expected http://ADDRESS[:PORT] (IMDS speaks plain HTTP)");
                        std::string_view rest = text.substr(scheme.size());
                        if (rest.ends_with('/'))
                                rest.remove_suffix(1);
                        std::string_view host = rest;
                        std::string_view port;
                        if (rest.starts_with('[')) {
                                const auto close = rest.find(']');
                                if (close == std::string_view::npos)
                                        return bad("an IPv6 address needs its closing ']'");
                                host = rest.substr(1, close - 1);
                                const std::string_view after = rest.substr(close + 1);
                                if (!after.empty() && !after.starts_with(':'))
                                        return bad("expected :PORT or nothing after ']'");
                                if (!after.empty())
                                        port = after.substr(1);
                                in6_addr a6{};
                                if (inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1)
                                        return bad("not an IPv6 address in brackets");
                        } else {
                                if (const auto colon = rest.find(':');
                                    colon != std::string_view::npos) {
                                        host = rest.substr(0, colon);
                                        port = rest.substr(colon + 1);
                                }
                                if (!Ipv4Address::parse(host))
                                        return bad("expected a literal IPv4 address or [IPv6] "
                                                   "(no host names: natd does not wait on DNS)");
                        }
                        if (rest.find('/') != std::string_view::npos)
                                return bad("no path: natd adds /latest/...");
                        if (!port.empty() && !number_value<uint16_t>(1, 65535).parse(port, key))
                                return bad("the port must be 1..65535");
                        return std::string(text.substr(0, scheme.size() + rest.size()));
                },
                [](const std::string& url) { return url; },
        };
}

ValueType<std::filesystem::path> directory_value() {
        return {
                [](std::string_view text, std::string_view key) -> Result<std::filesystem::path> {
                        const std::filesystem::path path(text);
                        if (!path.is_absolute())
                                return invalid_value("directory", text, key,
                                                     "expected an absolute path");
                        for (const auto& component : path)
                                if (component == "." || component == "..")
                                        return invalid_value("directory", text, key,
                                                             "'.' and '..' are not allowed");
                        return path;
                },
                [](const std::filesystem::path& p) { return p.string(); },
        };
}

ValueType<PortRange> port_range_value() {
        const auto port = number_value<uint16_t>(1, 65535);
        return {
                [port](std::string_view text, std::string_view key) -> Result<PortRange> {
                        const auto dash = text.find('-');
                        if (dash == std::string_view::npos)
                                return invalid_value("port range", text, key,
                                                     "expected FIRST-LAST, e.g. 1024-65535");
                        auto first = port.parse(text.substr(0, dash), key);
                        if (!first)
                                return first.failure();
                        auto last = port.parse(text.substr(dash + 1), key);
                        if (!last)
                                return last.failure();
                        if (first.value() > last.value())
                                return invalid_value("port range", text, key,
                                                     "the first port is above the last");
                        return PortRange{first.value(), last.value()};
                },
                [](const PortRange& r) {
                        return std::to_string(r.first) + "-" + std::to_string(r.last);
                },
        };
}

ValueType<ClampMss> clamp_mss_value() {
        // 536: the MSS every IPv4 host must accept (RFC 879); 65495: the
        // largest an IPv4 packet can carry.
        const auto mss = number_value<uint16_t>(536, 65495);
        return {
                [mss](std::string_view text, std::string_view key) -> Result<ClampMss> {
                        if (text == "auto")
                                return ClampMss{};
                        if (text == "no")
                                return ClampMss{ClampMss::Mode::Off, 0};
                        if (text.empty() || text.find_first_not_of("0123456789") != text.npos)
                                return invalid_value("value", text, key,
                                                     "expected auto, no or an MSS in bytes");
                        auto n = mss.parse(text, key);
                        if (!n)
                                return n.failure();
                        return ClampMss{ClampMss::Mode::Fixed, n.value()};
                },
                [](const ClampMss& c) -> std::string {
                        switch (c.mode) {
                        case ClampMss::Mode::Auto:
                                return "auto";
                        case ClampMss::Mode::Off:
                                return "no";
                        case ClampMss::Mode::Fixed:
                                break;
                        }
                        return std::to_string(c.value);
                },
        };
}

ValueType<uint32_t> auto_number_value(uint32_t min, uint32_t max) {
        const auto number = number_value<uint32_t>(min, max);
        return {
                [number](std::string_view text, std::string_view key) -> Result<uint32_t> {
                        if (text == "auto")
                                return uint32_t{0};
                        return number.parse(text, key);
                },
                [](const uint32_t& n) { return n == 0 ? std::string("auto") : std::to_string(n); },
        };
}

ValueType<uint32_t> seconds_value(uint32_t min, uint32_t max) {
        return {
                [min, max](std::string_view text, std::string_view key) -> Result<uint32_t> {
                        auto t = parse_timespan(text);
                        if (!t)
                                return invalid_value("time span", text, key, t.error());
                        const std::string range =
                                format_timespan(Timeout{std::chrono::seconds(min)}) + ".." +
                                format_timespan(Timeout{std::chrono::seconds(max)});
                        if (!t.value())
                                return invalid_value("time span", text, key,
                                                     "must be finite, " + range);
                        const auto usec = t.value()->count();
                        if (usec % 1'000'000 != 0)
                                return invalid_value("time span", text, key,
                                                     "must be whole seconds");
                        const auto sec = usec / 1'000'000;
                        if (sec < min || sec > max)
                                return invalid_value("time span", text, key,
                                                     "out of range " + range);
                        return static_cast<uint32_t>(sec);
                },
                [](const uint32_t& sec) {
                        return format_timespan(Timeout{std::chrono::seconds(sec)});
                },
        };
}

ValueType<bool> boolean_value() {
        return {
                [](std::string_view text, std::string_view key) -> Result<bool> {
                        for (const char* yes : {"yes", "true", "on", "1"})
                                if (text == yes)
                                        return true;
                        for (const char* no : {"no", "false", "off", "0"})
                                if (text == no)
                                        return false;
                        return invalid_value("boolean", text, key, "expected yes or no");
                },
                [](const bool& b) { return std::string(b ? "yes" : "no"); },
        };
}

ValueType<uint32_t> milliseconds_value(uint32_t min_msec, uint32_t max_msec, uint32_t step_msec) {
        auto format = [](uint32_t msec) {
                return format_timespan(Timeout{std::chrono::milliseconds(msec)});
        };
        return {
                [=](std::string_view text, std::string_view key) -> Result<uint32_t> {
                        auto t = parse_timespan(text);
                        if (!t)
                                return invalid_value("time span", text, key, t.error());
                        const std::string range = format(min_msec) + ".." + format(max_msec);
                        if (!t.value())
                                return invalid_value("time span", text, key,
                                                     "must be finite, " + range);
                        const auto usec = t.value()->count();
                        if (usec % (int64_t{step_msec} * 1000) != 0)
                                return invalid_value("time span", text, key,
                                                     "must be whole steps of " + format(step_msec));
                        const auto msec = usec / 1000;
                        if (msec < min_msec || msec > max_msec)
                                return invalid_value("time span", text, key,
                                                     "out of range " + range);
                        return static_cast<uint32_t>(msec);
                },
                format,
        };
}

ValueType<std::string> resource_id_value(std::string_view prefix) {
        return {
                [prefix](std::string_view text, std::string_view key) -> Result<std::string> {
                        if (!ec2_valid_resource_id(prefix, text))
                                return invalid_value("id", text, key,
                                                     std::string("expected ") +
                                                             std::string(prefix) +
                                                             "- and 8 or 17 lower-case hex digits");
                        return std::string(text);
                },
                [](const std::string& id) { return id; },
        };
}

ValueType<std::string> api_endpoint_value() {
        return {
                [](std::string_view text, std::string_view key) -> Result<std::string> {
                        auto bad = [&](const char* why) {
                                return invalid_value("URL", text, key, why);
                        };
                        std::string_view rest;
                        for (std::string_view scheme : {"https://", "http://"})
                                if (text.starts_with(scheme))
                                        rest = text.substr(scheme.size());
                        if (rest.empty())
                                return bad("expected https://HOST[:PORT] (http:// for a test "
                                           "endpoint)");
                        std::string_view host = rest;
                        if (host.ends_with('/'))
                                host.remove_suffix(1);
                        const std::size_t kept = text.size() - (rest.size() - host.size());
                        std::string_view port;
                        if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
                                port = host.substr(colon + 1);
                                host = host.substr(0, colon);
                        }
                        const bool name_chars = std::all_of(host.begin(), host.end(), [](char c) {
                                return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                                       c == '.';
                        });
                        if (host.empty() || !name_chars)
                                return bad("expected a host name or IPv4 address, no path, "
                                           "query or user");
                        if (!port.empty() && !number_value<uint16_t>(1, 65535).parse(port, key))
                                return bad("the port must be 1..65535");
                        return std::string(text.substr(0, kept));
                },
                [](const std::string& url) { return url; },
        };
}

}  // namespace natd
