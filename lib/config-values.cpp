#include "config-values.hpp"

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

}  // namespace natd
