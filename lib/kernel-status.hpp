// Reading what natd-ctl status shows straight from the kernel: the rule
// counters of natd's table, conntrack usage, forwarding. natd's Diagnostic
// interface uses it, and so does natd-ctl when natd does not answer.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "daemon-status.hpp"
#include "netlink-socket.hpp"
#include "result.hpp"

namespace natd {

struct RulesetCounters {
        bool present = false;               // table ip natd exists
        std::vector<RuleCounter> counters;  // natd's rules, role from their comment
};

Result<RulesetCounters> read_rule_counters(NetlinkSocket& nfnl);

struct ConntrackUsage {
        uint64_t count = 0;
        uint64_t max = 0;
};

// net.netfilter.nf_conntrack_count and _max; an error when conntrack is
// not loaded.
Result<ConntrackUsage> read_conntrack_usage();

// MemTotal of /proc/meminfo, in bytes.
Result<uint64_t> read_memory_total();

// How often natd reads the conntrack table's fill (it has no events).
inline constexpr uint64_t kConntrackPollUsec = 5'000'000;

}  // namespace natd
