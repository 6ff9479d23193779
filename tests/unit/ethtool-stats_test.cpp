#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "ethtool-stats.hpp"

using natd::EnaStat;
using natd::select_ena_allowances;

TEST_CASE("ENA statistics: the allowance counters are picked by name", "[ethtool-stats]") {
        // Names as `ethtool -S ens5` shows them on an ENA interface, among others.
        const std::vector<std::string> names{
                "tx_timeout",
                "suspend",
                "bw_in_allowance_exceeded",
                "bw_out_allowance_exceeded",
                "pps_allowance_exceeded",
                "conntrack_allowance_exceeded",
                "linklocal_allowance_exceeded",
                "conntrack_allowance_available",
                "queue_0_tx_cnt",
        };
        const std::vector<uint64_t> values{1, 0, 11, 12, 13, 14, 15, 136000, 9999};
        CHECK(select_ena_allowances(names, values) ==
              std::vector<EnaStat>{
                      {"bw_in_allowance_exceeded", 11, true},
                      {"bw_out_allowance_exceeded", 12, true},
                      {"pps_allowance_exceeded", 13, true},
                      {"conntrack_allowance_exceeded", 14, true},
                      {"linklocal_allowance_exceeded", 15, true},
                      {"conntrack_allowance_available", 136000, false},
              });
}

TEST_CASE("ENA statistics: what an older driver lacks is left out", "[ethtool-stats]") {
        // An older ENA has no conntrack_allowance_available; the order is natd's.
        const std::vector<std::string> names{"pps_allowance_exceeded", "bw_in_allowance_exceeded"};
        CHECK(select_ena_allowances(names, {5, 6}) ==
              std::vector<EnaStat>{{"bw_in_allowance_exceeded", 6, true},
                                   {"pps_allowance_exceeded", 5, true}});
        // Another driver's statistics: nothing.
        CHECK(select_ena_allowances({"peer_ifindex", "rx_queue_0_xdp_packets"}, {3, 0}).empty());
        // Fewer values than names (a short GSTATS answer): only whole pairs.
        CHECK(select_ena_allowances({"tx", "pps_allowance_exceeded"}, {1}).empty());
}

TEST_CASE("ENA statistics: only the ena driver has them", "[ethtool-stats]") {
        CHECK(natd::is_ena_driver("ena"));
        CHECK_FALSE(natd::is_ena_driver("veth"));
        CHECK_FALSE(natd::is_ena_driver("virtio_net"));
        CHECK_FALSE(natd::ena_stat_meaning("pps_allowance_exceeded").empty());
        CHECK(natd::ena_stat_meaning("tx_timeout").empty());
}

TEST_CASE("ENA statistics: a device of another driver has none", "[ethtool-stats]") {
        // The loopback device has no driver name at all (EOPNOTSUPP).
        const auto lo = natd::read_ena_allowances("lo");
        REQUIRE(lo.ok());
        CHECK_FALSE(lo.value().has_value());
        CHECK_FALSE(natd::read_ena_allowances("natd-no-such-if").ok());
}
