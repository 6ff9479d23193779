#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "ipv4.hpp"

using natd::Ipv4Address;
using natd::Ipv4Cidr;

namespace {

Ipv4Address addr(std::string_view text) {
        auto r = Ipv4Address::parse(text);
        REQUIRE(r.ok());
        return r.value();
}

Ipv4Cidr cidr(std::string_view text) {
        auto r = Ipv4Cidr::parse(text);
        REQUIRE(r.ok());
        return r.value();
}

}  // namespace

TEST_CASE("Ipv4Address::parse accepts strict dotted quads", "[ipv4]") {
        struct Row {
                std::string text;
                uint32_t host_order;
        };
        const std::vector<Row> rows{
                {"0.0.0.0", 0x00000000},         {"255.255.255.255", 0xffffffff},
                {"10.0.1.10", 0x0a00010a},       {"192.168.0.1", 0xc0a80001},
                {"1.2.3.4", 0x01020304},         {"100.64.0.0", 0x64400000},
                {"169.254.169.254", 0xa9fea9fe},
        };
        for (const auto& row : rows) {
                CAPTURE(row.text);
                auto r = Ipv4Address::parse(row.text);
                REQUIRE(r.ok());
                CHECK(r.value().host_order() == row.host_order);
                CHECK(r.value().str() == row.text);
        }
}

TEST_CASE("Ipv4Address::parse rejects everything else with a reason", "[ipv4]") {
        struct Row {
                std::string text;
                std::string error;
        };
        const std::string four = "expected four dot-separated decimal octets";
        const std::vector<Row> rows{
                {"", four},
                {"1.2.3", four},
                {"1.2.3.4.5", four},
                {"1.2.3.4.", four},
                {"localhost", four},
                {"1..3.4", "empty octet"},
                {".1.2.3", "empty octet"},
                {"1.2.3.", "empty octet"},
                {"010.0.0.1", "octet '010' has a leading zero"},
                {"1.2.3.00", "octet '00' has a leading zero"},
                {"256.0.0.1", "octet '256' is out of range 0..255"},
                {"1.2.3.1000", "octet '1000' is out of range 0..255"},
                {"1.2.3.99999999999999999999",
                 "octet '99999999999999999999' is out of range 0..255"},
                {"-1.2.3.4", "octet '-1' is not a decimal number"},
                {"+1.2.3.4", "octet '+1' is not a decimal number"},
                {" 1.2.3.4", "octet ' 1' is not a decimal number"},
                {"1.2.3.4 ", "octet '4 ' is not a decimal number"},
                {"1.2.3.4/24", "octet '4/24' is not a decimal number"},
                {"0x1.2.3.4", "octet '0x1' is not a decimal number"},
                {"1.2.3.a", "octet 'a' is not a decimal number"},
                // IPv6 where IPv4 belongs is named as such.
                {"fe80::1", "an IPv6 address; natd handles IPv4 only"},
                {"::ffff:10.0.0.1", "an IPv6 address; natd handles IPv4 only"},
        };
        for (const auto& row : rows) {
                CAPTURE(row.text);
                auto r = Ipv4Address::parse(row.text);
                REQUIRE_FALSE(r.ok());
                CHECK(r.error() == "invalid IPv4 address '" + row.text + "': " + row.error);
        }
}

TEST_CASE("Ipv4Address byte order conversions", "[ipv4]") {
        const auto a = addr("10.0.1.2");
        const uint32_t n = a.network_order();
        const auto* bytes = reinterpret_cast<const unsigned char*>(&n);
        CHECK(bytes[0] == 10);
        CHECK(bytes[1] == 0);
        CHECK(bytes[2] == 1);
        CHECK(bytes[3] == 2);
        CHECK(Ipv4Address::from_network(n) == a);
        CHECK(Ipv4Address{} == addr("0.0.0.0"));
        CHECK(addr("10.0.0.1") < addr("10.0.0.2"));
        CHECK(addr("9.255.255.255") < addr("10.0.0.0"));
}

TEST_CASE("Ipv4Cidr::parse", "[ipv4]") {
        SECTION("valid") {
                struct Row {
                        std::string text;
                        std::string address;
                        unsigned prefix_len;
                        bool is_network;
                };
                const std::vector<Row> rows{
                        {"0.0.0.0/0", "0.0.0.0", 0, true},
                        {"10.0.0.0/8", "10.0.0.0", 8, true},
                        {"10.0.1.0/24", "10.0.1.0", 24, true},
                        {"10.0.1.10/24", "10.0.1.10", 24, false},
                        {"10.0.1.10/32", "10.0.1.10", 32, true},
                        {"10.0.1.11/31", "10.0.1.11", 31, false},
                        {"1.2.3.4/0", "1.2.3.4", 0, false},
                };
                for (const auto& row : rows) {
                        CAPTURE(row.text);
                        auto r = Ipv4Cidr::parse(row.text);
                        REQUIRE(r.ok());
                        CHECK(r.value().address().str() == row.address);
                        CHECK(r.value().prefix_len() == row.prefix_len);
                        CHECK(r.value().is_network() == row.is_network);
                        CHECK(r.value().str() == row.text);
                }
        }
        SECTION("invalid") {
                struct Row {
                        std::string text;
                        std::string error;
                };
                const std::string len = "prefix length must be 0..32";
                const std::vector<Row> rows{
                        {"", "missing '/' and prefix length"},
                        {"10.0.0.0", "missing '/' and prefix length"},
                        {"10.0.0.0/33", len},
                        {"10.0.0.0/", len},
                        {"10.0.0.0/08", len},
                        {"10.0.0.0/00", len},
                        {"10.0.0.0/-1", len},
                        {"10.0.0.0/+8", len},
                        {"10.0.0.0/ 8", len},
                        {"10.0.0.0/8 ", len},
                        {"10.0.0.0/8/8", len},
                        {"10.0.0.0/4294967304", len},  // 2^32 + 8: no wrap-around
                        {"10.0.0/8", "expected four dot-separated decimal octets"},
                        {"10.0.0.256/8", "octet '256' is out of range 0..255"},
                        {"/8", "expected four dot-separated decimal octets"},
                };
                for (const auto& row : rows) {
                        CAPTURE(row.text);
                        auto r = Ipv4Cidr::parse(row.text);
                        REQUIRE_FALSE(r.ok());
                        CHECK(r.error() == "invalid CIDR '" + row.text + "': " + row.error);
                }
        }
}

TEST_CASE("Ipv4Cidr arithmetic", "[ipv4]") {
        struct Row {
                std::string text;
                uint32_t netmask;
                std::string network;
                std::string first_host;
        };
        const std::vector<Row> rows{
                {"0.0.0.0/0", 0x00000000, "0.0.0.0/0", "0.0.0.1"},
                {"192.168.7.9/0", 0x00000000, "0.0.0.0/0", "0.0.0.1"},
                {"10.0.0.0/8", 0xff000000, "10.0.0.0/8", "10.0.0.1"},
                {"10.0.1.10/24", 0xffffff00, "10.0.1.0/24", "10.0.1.1"},
                {"172.31.37.200/20", 0xfffff000, "172.31.32.0/20", "172.31.32.1"},
                {"10.0.1.10/30", 0xfffffffc, "10.0.1.8/30", "10.0.1.9"},
                // /31 (RFC 3021): both addresses are hosts, the first is the network's.
                {"10.0.1.11/31", 0xfffffffe, "10.0.1.10/31", "10.0.1.10"},
                {"10.0.1.10/31", 0xfffffffe, "10.0.1.10/31", "10.0.1.10"},
                // /32: the address itself.
                {"10.0.1.10/32", 0xffffffff, "10.0.1.10/32", "10.0.1.10"},
                {"255.255.255.255/32", 0xffffffff, "255.255.255.255/32", "255.255.255.255"},
        };
        for (const auto& row : rows) {
                CAPTURE(row.text);
                const auto c = cidr(row.text);
                CHECK(c.netmask() == row.netmask);
                CHECK(c.network().str() == row.network);
                CHECK(c.network().is_network());
                CHECK(c.first_host().str() == row.first_host);
        }
}

TEST_CASE("Ipv4Cidr constructor clamps the prefix length", "[ipv4]") {
        const Ipv4Cidr c{addr("10.0.0.1"), 40};
        CHECK(c.prefix_len() == 32);
        CHECK(Ipv4Cidr{addr("10.0.0.1"), 24}.str() == "10.0.0.1/24");
        CHECK(Ipv4Cidr{} == cidr("0.0.0.0/0"));
}

TEST_CASE("Ipv4Cidr::contains", "[ipv4]") {
        struct Row {
                std::string cidr;
                std::string address;
                bool contained;
        };
        const std::vector<Row> rows{
                {"0.0.0.0/0", "0.0.0.0", true},
                {"0.0.0.0/0", "255.255.255.255", true},
                {"10.0.0.0/8", "10.255.255.255", true},
                {"10.0.0.0/8", "11.0.0.0", false},
                {"10.0.0.0/8", "9.255.255.255", false},
                {"10.0.1.10/24", "10.0.1.0", true},  // host bits do not matter
                {"10.0.1.10/24", "10.0.1.255", true},
                {"10.0.1.10/24", "10.0.2.0", false},
                {"10.0.1.10/31", "10.0.1.11", true},
                {"10.0.1.10/31", "10.0.1.12", false},
                {"10.0.1.10/32", "10.0.1.10", true},
                {"10.0.1.10/32", "10.0.1.11", false},
        };
        for (const auto& row : rows) {
                CAPTURE(row.cidr, row.address);
                CHECK(cidr(row.cidr).contains(addr(row.address)) == row.contained);
        }
}

TEST_CASE("Ipv4Cidr::overlaps is symmetric", "[ipv4]") {
        struct Row {
                std::string a;
                std::string b;
                bool overlap;
        };
        const std::vector<Row> rows{
                {"10.0.0.0/16", "10.0.1.0/24", true},      {"10.0.1.0/24", "10.0.1.0/24", true},
                {"10.0.1.0/24", "10.0.2.0/24", false},     {"10.0.0.0/23", "10.0.1.0/24", true},
                {"10.0.0.0/24", "10.0.1.0/24", false},     {"0.0.0.0/0", "192.168.0.0/16", true},
                {"10.0.1.10/31", "10.0.1.11/32", true},    {"10.0.1.10/32", "10.0.1.11/32", false},
                {"10.0.1.77/24", "10.0.1.200/25", true},  // host bits ignored
                {"172.16.0.0/12", "172.32.0.0/16", false},
        };
        for (const auto& row : rows) {
                CAPTURE(row.a, row.b);
                CHECK(cidr(row.a).overlaps(cidr(row.b)) == row.overlap);
                CHECK(cidr(row.b).overlaps(cidr(row.a)) == row.overlap);
        }
}
