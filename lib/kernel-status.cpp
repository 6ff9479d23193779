#include "kernel-status.hpp"

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "nft-ruleset.hpp"

namespace natd {

namespace {

Result<uint64_t> read_number(const char* path) {
        std::ifstream f(path);
        uint64_t value = 0;
        if (!(f >> value))
                return errno_error(std::string("read ") + path, errno != 0 ? errno : EINVAL);
        return value;
}

}  // namespace

Result<RulesetCounters> read_rule_counters(NetlinkSocket& nfnl) {
        auto kernel = read_ruleset(nfnl, kTableName);
        if (!kernel.ok())
                return kernel.failure();
        RulesetCounters out;
        out.present = kernel.value().present;
        constexpr std::string_view prefix = "natd: ";
        for (const auto& r : kernel.value().rules) {
                const std::string role =
                        r.comment.starts_with(prefix) ? r.comment.substr(prefix.size()) : "unknown";
                out.counters.push_back({role, "chain " + r.chain, r.packets, r.bytes});
        }
        return out;
}

Result<ConntrackUsage> read_conntrack_usage() {
        auto count = read_number("/proc/sys/net/netfilter/nf_conntrack_count");
        if (!count.ok())
                return count.failure();
        auto max = read_number("/proc/sys/net/netfilter/nf_conntrack_max");
        if (!max.ok())
                return max.failure();
        return ConntrackUsage{count.value(), max.value()};
}

Result<uint64_t> read_memory_total() {
        std::ifstream f("/proc/meminfo");
        for (std::string line; std::getline(f, line);) {
                std::istringstream fields(line);
                std::string key;
                uint64_t kib = 0;
                if (fields >> key >> kib && key == "MemTotal:")
                        return kib * 1024;  // "MemTotal:  24683664 kB"
        }
        return Error{"Could not read MemTotal from /proc/meminfo", ENOENT};
}

}  // namespace natd
