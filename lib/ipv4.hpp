// IPv4 addresses and prefixes, host byte order inside, dotted quads outside.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "result.hpp"

namespace natd {

class Ipv4Address {
public:
        constexpr Ipv4Address() = default;
        constexpr explicit Ipv4Address(uint32_t host_order) : value_(host_order) {}

        // Strict dotted quad: four decimal octets 0-255, no leading '+', no
        // leading zeros beyond a single "0", nothing else.
        static Result<Ipv4Address> parse(std::string_view text);
        static Ipv4Address from_network(uint32_t network_order);

        [[nodiscard]] constexpr uint32_t host_order() const { return value_; }
        [[nodiscard]] uint32_t network_order() const;
        [[nodiscard]] std::string str() const;

        auto operator<=>(const Ipv4Address&) const = default;

private:
        uint32_t value_ = 0;
};

// An address with a prefix length. Interface addresses ("10.0.1.10/24")
// have host bits; subnets ("10.0.1.0/24") do not.
class Ipv4Cidr {
public:
        constexpr Ipv4Cidr() = default;
        Ipv4Cidr(Ipv4Address address, unsigned prefix_len);  // prefix_len must be <= 32

        // "A.B.C.D/N" with N in 0..32. Host bits are accepted here; callers
        // that need a subnet check is_network().
        static Result<Ipv4Cidr> parse(std::string_view text);

        [[nodiscard]] Ipv4Address address() const { return address_; }
        [[nodiscard]] unsigned prefix_len() const { return prefix_len_; }
        [[nodiscard]] uint32_t netmask() const;  // host order
        [[nodiscard]] Ipv4Cidr network() const;  // host bits cleared
        [[nodiscard]] bool is_network() const { return network() == *this; }
        // The first usable host of the network: the VPC router is always .1.
        [[nodiscard]] Ipv4Address first_host() const;
        [[nodiscard]] bool contains(Ipv4Address a) const;
        [[nodiscard]] bool overlaps(const Ipv4Cidr& other) const;
        [[nodiscard]] std::string str() const;

        auto operator<=>(const Ipv4Cidr&) const = default;

private:
        Ipv4Address address_;
        unsigned prefix_len_ = 0;
};

// An address and a TCP port, "127.0.0.1:9647" ([Metrics] Listen=).
struct Ipv4Endpoint {
        Ipv4Address address;
        uint16_t port = 0;

        // "A.B.C.D:PORT", the port 1..65535.
        static Result<Ipv4Endpoint> parse(std::string_view text);
        [[nodiscard]] std::string str() const;

        bool operator==(const Ipv4Endpoint&) const = default;
};

}  // namespace natd
