#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "mac-address.hpp"

using natd::MacAddress;

TEST_CASE("MacAddress::parse accepts six hex pairs in any case", "[mac]") {
        struct Row {
                std::string text;
                std::array<uint8_t, 6> bytes;
                std::string str;
        };
        const std::vector<Row> rows{
                {"0a:1b:2c:3d:4e:5f", {0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f}, "0a:1b:2c:3d:4e:5f"},
                {"0A:1B:2C:3D:4E:5F", {0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f}, "0a:1b:2c:3d:4e:5f"},
                {"0a:1B:2c:3D:4e:5F", {0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f}, "0a:1b:2c:3d:4e:5f"},
                {"00:00:00:00:00:00", {0, 0, 0, 0, 0, 0}, "00:00:00:00:00:00"},
                {"FF:ff:FF:ff:FF:ff", {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "ff:ff:ff:ff:ff:ff"},
                {"02:9a:bc:de:f0:12", {0x02, 0x9a, 0xbc, 0xde, 0xf0, 0x12}, "02:9a:bc:de:f0:12"},
        };
        for (const auto& row : rows) {
                CAPTURE(row.text);
                auto r = MacAddress::parse(row.text);
                REQUIRE(r.ok());
                CHECK(r.value().bytes() == row.bytes);
                CHECK(r.value().str() == row.str);
        }
}

TEST_CASE("MacAddress::parse rejects everything else", "[mac]") {
        const std::vector<std::string> rows{
                "",
                "0a:1b:2c:3d:4e",
                "0a:1b:2c:3d:4e:5f:60",
                "0a:1b:2c:3d:4e:5f:",
                ":0a:1b:2c:3d:4e:5f",
                "0a-1b-2c-3d-4e-5f",
                "0a1b.2c3d.4e5f",
                "0a1b2c3d4e5f",
                "a:1b:2c:3d:4e:5f",
                "a:b:c:d:e:f",
                "0a:1b:2c:3d:4e:5g",
                "zz:1b:2c:3d:4e:5f",
                "0a:1b:2c:3d:4e:5 ",
                " 0a:1b:2c:3d:4e:5",
                "0a:1b:2c:3d:4e;5f",
                "0a::1b:2c:3d:4e:5",
                "+a:1b:2c:3d:4e:5f",
        };
        for (const auto& text : rows) {
                CAPTURE(text);
                auto r = MacAddress::parse(text);
                REQUIRE_FALSE(r.ok());
                CHECK(r.error() == "invalid MAC address '" + text +
                                           "': expected six colon-separated pairs of hex digits");
        }
}

TEST_CASE("MacAddress::from_bytes wants exactly six bytes", "[mac]") {
        const std::vector<uint8_t> six{0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc};
        auto r = MacAddress::from_bytes(six);
        REQUIRE(r.ok());
        CHECK(r.value().str() == "02:00:00:aa:bb:cc");
        CHECK(r.value() == MacAddress::parse("02:00:00:AA:BB:CC").value());

        const std::vector<uint8_t> five{1, 2, 3, 4, 5};
        auto short_r = MacAddress::from_bytes(five);
        REQUIRE_FALSE(short_r.ok());
        CHECK(short_r.error() == "invalid MAC address: 5 bytes, expected 6");

        // IFLA_ADDRESS of an InfiniBand or tunnel device is not an Ethernet MAC.
        const std::vector<uint8_t> twenty(20, 0);
        auto long_r = MacAddress::from_bytes(twenty);
        REQUIRE_FALSE(long_r.ok());
        CHECK(long_r.error() == "invalid MAC address: 20 bytes, expected 6");

        CHECK_FALSE(MacAddress::from_bytes({}).ok());
}

TEST_CASE("MacAddress default and equality", "[mac]") {
        CHECK(MacAddress{}.str() == "00:00:00:00:00:00");
        CHECK(MacAddress{} == MacAddress::parse("00:00:00:00:00:00").value());
        CHECK_FALSE(MacAddress::parse("00:00:00:00:00:01").value() == MacAddress{});
}
