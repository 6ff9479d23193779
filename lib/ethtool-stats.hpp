// The ENA driver's allowance counters: how often the instance went over
// what its type allows (bandwidth in and out, packets per second, tracked
// connections, link-local traffic such as DNS and IMDS) and how many
// tracked connections it has left. They tell an operator the instance type
// is too small, which nothing else on the instance does.
//
// They are driver-private statistics (ETH_SS_STATS), read with the
// SIOCETHTOOL ioctl: ETHTOOL_GDRVINFO (is the driver ena?), then
// ETHTOOL_GSSET_INFO, ETHTOOL_GSTRINGS and ETHTOOL_GSTATS. Ethtool netlink
// does not replace it here: ETHTOOL_MSG_STATS_GET carries only the
// standard groups (IEEE 802.3 PHY, MAC and control counters, RMON), and
// ETHTOOL_MSG_STRSET_GET only the names of ETH_SS_STATS, not the values;
// `ethtool -S` itself still uses the ioctl for them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"

namespace natd {

struct EnaStat {
        std::string name;  // the driver's: "bw_in_allowance_exceeded"
        uint64_t value = 0;
        bool counter = true;  // false: a gauge (conntrack_allowance_available)

        bool operator==(const EnaStat&) const = default;
};

// Pure: the allowance statistics among a driver's `names` and `values`
// (ETHTOOL_GSTRINGS and ETHTOOL_GSTATS, index for index), in the order of
// the known names; the ones the driver lacks (older ENA versions have no
// conntrack_allowance_available) are left out.
std::vector<EnaStat> select_ena_allowances(const std::vector<std::string>& names,
                                           const std::vector<uint64_t>& values);

// What one of the allowance statistics counts, one sentence; empty for
// another name.
std::string_view ena_stat_meaning(std::string_view name);

// The driver behind `ifname` is ENA's ("ena").
bool is_ena_driver(std::string_view driver);

// The allowance statistics of `ifname`; nullopt when its driver is not ena
// (veth, virtio_net: nothing to report); an error when the ioctl fails.
Result<std::optional<std::vector<EnaStat>>> read_ena_allowances(const std::string& ifname);

}  // namespace natd
