#include "ethtool-stats.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "handles.hpp"

namespace natd {

namespace {

struct Known {
        std::string_view name;
        bool counter;
        std::string_view meaning;
};

constexpr std::array<Known, 6> kAllowances{{
        {"bw_in_allowance_exceeded", true,
         "Packets queued or dropped because inbound bandwidth exceeded the instance's allowance."},
        {"bw_out_allowance_exceeded", true,
         "Packets queued or dropped because outbound bandwidth exceeded the instance's "
         "allowance."},
        {"pps_allowance_exceeded", true,
         "Packets queued or dropped because packets per second exceeded the instance's "
         "allowance."},
        {"conntrack_allowance_exceeded", true,
         "Packets dropped because EC2's connection tracking for the instance was full."},
        {"linklocal_allowance_exceeded", true,
         "Packets dropped because traffic to link-local services (DNS, IMDS, NTP) exceeded its "
         "allowance."},
        {"conntrack_allowance_available", false,
         "Connections EC2's connection tracking can still track for the instance."},
}};

// One SIOCETHTOOL call; `data` starts with the command's struct.
int ethtool(int fd, const std::string& ifname, void* data) {
        ifreq ifr{};
        std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
        ifr.ifr_data = static_cast<char*>(data);
        return ioctl(fd, SIOCETHTOOL, &ifr);
}

}  // namespace

std::vector<EnaStat> select_ena_allowances(const std::vector<std::string>& names,
                                           const std::vector<uint64_t>& values) {
        std::vector<EnaStat> out;
        for (const auto& known : kAllowances)
                for (size_t i = 0; i < names.size() && i < values.size(); ++i)
                        if (names[i] == known.name) {
                                out.push_back({names[i], values[i], known.counter});
                                break;
                        }
        return out;
}

std::string_view ena_stat_meaning(std::string_view name) {
        for (const auto& known : kAllowances)
                if (known.name == name)
                        return known.meaning;
        return {};
}

bool is_ena_driver(std::string_view driver) {
        return driver == "ena";
}

Result<std::optional<std::vector<EnaStat>>> read_ena_allowances(const std::string& ifname) {
        // Any socket reaches the device ioctls; AF_UNIX needs no IP address
        // family and sends nothing.
        const UniqueFd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (fd.get() < 0)
                return errno_error("open a socket for ethtool", errno);

        ethtool_drvinfo info{};
        info.cmd = ETHTOOL_GDRVINFO;
        if (ethtool(fd.get(), ifname, &info) < 0) {
                // A device without a driver name (lo) is not ENA either.
                if (errno == EOPNOTSUPP)
                        return std::optional<std::vector<EnaStat>>{};
                return errno_error("read the driver of", ifname, errno);
        }
        info.driver[sizeof(info.driver) - 1] = '\0';
        if (!is_ena_driver(info.driver))
                return std::optional<std::vector<EnaStat>>{};

        // ethtool_sset_info ends in a flexible array: one count per set asked.
        std::vector<uint8_t> info_buffer(sizeof(ethtool_sset_info) + sizeof(uint32_t));
        auto* sset = reinterpret_cast<ethtool_sset_info*>(info_buffer.data());
        sset->cmd = ETHTOOL_GSSET_INFO;
        sset->sset_mask = 1ULL << ETH_SS_STATS;
        if (ethtool(fd.get(), ifname, sset) < 0)
                return errno_error("count the statistics of", ifname, errno);
        if ((sset->sset_mask & (1ULL << ETH_SS_STATS)) == 0)
                return std::optional<std::vector<EnaStat>>{std::vector<EnaStat>{}};
        uint32_t n = 0;
        std::memcpy(&n, info_buffer.data() + sizeof(ethtool_sset_info), sizeof(n));

        std::vector<uint8_t> strings(sizeof(ethtool_gstrings) + size_t{n} * ETH_GSTRING_LEN);
        auto* gstrings = reinterpret_cast<ethtool_gstrings*>(strings.data());
        gstrings->cmd = ETHTOOL_GSTRINGS;
        gstrings->string_set = ETH_SS_STATS;
        gstrings->len = n;
        if (ethtool(fd.get(), ifname, gstrings) < 0)
                return errno_error("read the statistics' names of", ifname, errno);

        std::vector<uint8_t> stats(sizeof(ethtool_stats) + size_t{n} * sizeof(uint64_t));
        auto* gstats = reinterpret_cast<ethtool_stats*>(stats.data());
        gstats->cmd = ETHTOOL_GSTATS;
        gstats->n_stats = n;
        if (ethtool(fd.get(), ifname, gstats) < 0)
                return errno_error("read the statistics of", ifname, errno);
        // The driver may report fewer than it counted (a queue went away).
        const uint32_t count = std::min({n, gstrings->len, gstats->n_stats});

        std::vector<std::string> names;
        std::vector<uint64_t> values;
        for (uint32_t i = 0; i < count; ++i) {
                const auto* name = reinterpret_cast<const char*>(
                        strings.data() + sizeof(ethtool_gstrings) + size_t{i} * ETH_GSTRING_LEN);
                names.emplace_back(name, strnlen(name, ETH_GSTRING_LEN));
                uint64_t v = 0;
                std::memcpy(&v, stats.data() + sizeof(ethtool_stats) + size_t{i} * sizeof(v),
                            sizeof(v));
                values.push_back(v);
        }
        return std::optional<std::vector<EnaStat>>{select_ena_allowances(names, values)};
}

}  // namespace natd
