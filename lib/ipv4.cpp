#include "ipv4.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>

namespace natd {

namespace {

// The reason a dotted quad is invalid, without the text: parse() and the CIDR
// parser each wrap it in their own "invalid ... 'TEXT': " prefix.
Result<Ipv4Address> parse_quad(std::string_view text) {
        // An IPv6 address where natd expects IPv4: say so, rather than
        // count its dots.
        if (text.find(':') != std::string_view::npos)
                return Error{"an IPv6 address; natd handles IPv4 only"};
        if (std::count(text.begin(), text.end(), '.') != 3)
                return Error{"expected four dot-separated decimal octets"};
        uint32_t value = 0;
        for (int i = 0; i < 4; ++i) {
                const size_t dot = text.find('.');
                const std::string_view part = text.substr(0, dot);
                text = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
                if (part.empty())
                        return Error{"empty octet"};
                // from_chars stops quietly at the first non-digit: check the
                // whole octet first so that "1x" is an error, not a 1.
                if (!std::all_of(part.begin(), part.end(),
                                 [](char c) { return c >= '0' && c <= '9'; }))
                        return Error{"octet '" + std::string(part) + "' is not a decimal number"};
                // Leading zeros read as octal to inet_aton(); refuse the ambiguity.
                if (part.size() > 1 && part.front() == '0')
                        return Error{"octet '" + std::string(part) + "' has a leading zero"};
                unsigned octet = 0;
                const auto [end, ec] =
                        std::from_chars(part.data(), part.data() + part.size(), octet);
                if (ec != std::errc{} || end != part.data() + part.size() || octet > 255)
                        return Error{"octet '" + std::string(part) + "' is out of range 0..255"};
                value = (value << 8) | octet;
        }
        return Ipv4Address{value};
}

}  // namespace

Result<Ipv4Address> Ipv4Address::parse(std::string_view text) {
        auto r = parse_quad(text);
        if (!r)
                return Error{"invalid IPv4 address '" + std::string(text) + "': " + r.error()};
        return r;
}

Ipv4Address Ipv4Address::from_network(uint32_t network_order) {
        return Ipv4Address{ntohl(network_order)};
}

uint32_t Ipv4Address::network_order() const {
        return htonl(value_);
}

std::string Ipv4Address::str() const {
        std::string s;
        for (int shift = 24; shift >= 0; shift -= 8) {
                if (!s.empty())
                        s += '.';
                s += std::to_string((value_ >> shift) & 0xffU);
        }
        return s;
}

// Out-of-range lengths are clamped rather than thrown: no exceptions cross
// the API, and a /32 is the most conservative reading.
Ipv4Cidr::Ipv4Cidr(Ipv4Address address, unsigned prefix_len)
    : address_(address), prefix_len_(std::min(prefix_len, 32U)) {}

Result<Ipv4Cidr> Ipv4Cidr::parse(std::string_view text) {
        const auto fail = [text](const std::string& reason) -> Result<Ipv4Cidr> {
                return Error{"invalid CIDR '" + std::string(text) + "': " + reason};
        };
        const size_t slash = text.find('/');
        if (slash == std::string_view::npos)
                return fail("missing '/' and prefix length");
        auto address = parse_quad(text.substr(0, slash));
        if (!address)
                return fail(address.error());
        const std::string_view len = text.substr(slash + 1);
        const bool digits_only = !len.empty() && std::all_of(len.begin(), len.end(), [](char c) {
                return c >= '0' && c <= '9';
        });
        unsigned prefix_len = 0;
        if (!digits_only || (len.size() > 1 && len.front() == '0') ||
            std::from_chars(len.data(), len.data() + len.size(), prefix_len).ec != std::errc{} ||
            prefix_len > 32)
                return fail("prefix length must be 0..32");
        return Ipv4Cidr{address.value(), prefix_len};
}

uint32_t Ipv4Cidr::netmask() const {
        // Shifting a 32-bit value by 32 is undefined: /0 is its own case.
        return prefix_len_ == 0 ? 0U : ~uint32_t{0} << (32 - prefix_len_);
}

Ipv4Cidr Ipv4Cidr::network() const {
        return Ipv4Cidr{Ipv4Address{address_.host_order() & netmask()}, prefix_len_};
}

// /32: the address itself (the only one there is). /31: the network address,
// as RFC 3021 point-to-point links have no network or broadcast address.
// Otherwise the network address + 1.
Ipv4Address Ipv4Cidr::first_host() const {
        const uint32_t net = address_.host_order() & netmask();
        if (prefix_len_ >= 31)
                return prefix_len_ == 32 ? address_ : Ipv4Address{net};
        return Ipv4Address{net + 1};
}

bool Ipv4Cidr::contains(Ipv4Address a) const {
        return ((a.host_order() ^ address_.host_order()) & netmask()) == 0;
}

bool Ipv4Cidr::overlaps(const Ipv4Cidr& other) const {
        return contains(other.network().address()) || other.contains(network().address());
}

std::string Ipv4Cidr::str() const {
        return address_.str() + "/" + std::to_string(prefix_len_);
}

Result<Ipv4Endpoint> Ipv4Endpoint::parse(std::string_view text) {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos)
                return Error{"invalid endpoint '" + std::string(text) +
                             "': expected ADDRESS:PORT, e.g. 127.0.0.1:9647"};
        auto address = parse_quad(text.substr(0, colon));
        if (!address)
                return Error{"invalid endpoint '" + std::string(text) + "': '" +
                             std::string(text.substr(0, colon)) + "': " + address.error()};
        const std::string_view digits = text.substr(colon + 1);
        unsigned port = 0;
        const char* end = digits.data() + digits.size();
        const auto [ptr, err] = std::from_chars(digits.data(), end, port);
        if (digits.empty() || err != std::errc{} || ptr != end || port < 1 || port > 65535)
                return Error{"invalid endpoint '" + std::string(text) +
                             "': the port must be a number 1..65535"};
        return Ipv4Endpoint{address.value(), static_cast<uint16_t>(port)};
}

std::string Ipv4Endpoint::str() const {
        return address.str() + ":" + std::to_string(port);
}

}  // namespace natd
