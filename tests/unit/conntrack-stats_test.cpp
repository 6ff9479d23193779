#include <string>

#include <catch2/catch.hpp>

#include "conntrack-stats.hpp"

using natd::ConntrackStats;
using natd::parse_conntrack_stats;

// Debian 12's kernel (6.1), two CPUs.
static const std::string kTwoCpus =
        "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop "
        "early_drop icmp_error  expect_new expect_create expect_delete search_restart\n"
        "0000002a  00000000 00000000 00000000 00000003 00000000 00000000 00000000 00000000 "
        "0000000a 00000001 00000000 00000000  00000000 00000000 00000000 00000000\n"
        "0000002a  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
        "000000ff 00000010 00000000 00000000  00000000 00000000 00000000 00000000\n";

TEST_CASE("conntrack statistics: summed over CPUs, columns found by name", "[conntrack-stats]") {
        const auto stats = parse_conntrack_stats(kTwoCpus);
        REQUIRE(stats.ok());
        CHECK(stats.value() == ConntrackStats{.insert_failed = 0x0a + 0xff, .drop = 0x01 + 0x10});
}

TEST_CASE("conntrack statistics: another kernel's columns", "[conntrack-stats]") {
        // Older kernels (4.x) have searched and no clashres; the order differs.
        const auto stats = parse_conntrack_stats(
                "entries  searched found new invalid ignore delete delete_list insert "
                "insert_failed drop early_drop icmp_error  expect_new expect_create "
                "expect_delete search_restart\n"
                "00000001  00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
                "00000000 00000002 00000003 00000000 00000000  00000000 00000000 00000000 "
                "00000000\n");
        REQUIRE(stats.ok());
        CHECK(stats.value() == ConntrackStats{.insert_failed = 2, .drop = 3});
}

TEST_CASE("conntrack statistics: no CPU rows is zero, not an error", "[conntrack-stats]") {
        const auto stats = parse_conntrack_stats("entries insert_failed drop\n");
        REQUIRE(stats.ok());
        CHECK(stats.value() == ConntrackStats{});
}

TEST_CASE("conntrack statistics: malformed text is an error", "[conntrack-stats]") {
        CHECK_FALSE(parse_conntrack_stats("").ok());
        CHECK_FALSE(parse_conntrack_stats("entries found\n00000001 00000002\n").ok());
        CHECK_FALSE(parse_conntrack_stats("entries insert_failed drop\n1 2\n").ok());
        const auto bad = parse_conntrack_stats("entries insert_failed drop\n1 zz 3\n");
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.error() == "/proc/net/stat/nf_conntrack:2: 'zz' is not hexadecimal");
}
