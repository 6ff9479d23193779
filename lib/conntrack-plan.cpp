#include "conntrack-plan.hpp"

#include <algorithm>

namespace natd {

ConntrackPlan plan_conntrack(const Config& config, uint64_t memory_bytes, bool conntrack_module) {
        ConntrackPlan p;
        const uint64_t by_memory = memory_bytes / 8192;
        const uint64_t quarter = memory_bytes / 4 / kConntrackEntryBytes;
        uint64_t automatic = std::max<uint64_t>(kConntrackMinimumAuto, by_memory);
        if (memory_bytes != 0)
                automatic = std::min(automatic, std::max<uint64_t>(quarter, 1024));
        automatic = std::min<uint64_t>(automatic, 1U << 30);
        p.max_configured = config.conntrack_max != 0;
        // Memory unknown: the kernel's own sizing beats a guess.
        p.max = p.max_configured    ? config.conntrack_max
                : memory_bytes == 0 ? 0
                                    : static_cast<uint32_t>(automatic);
        p.buckets_configured = config.conntrack_hash_size != 0;
        const uint32_t buckets = p.buckets_configured ? config.conntrack_hash_size : p.max;
        // The kernel rounds the hash up to whole pages of buckets and reads
        // back what it made: plan that, or it would never verify.
        p.buckets = (buckets + kConntrackBucketsPerPage - 1) / kConntrackBucketsPerPage *
                    kConntrackBucketsPerPage;
        // Built in, the table is sized at boot before any file could say
        // otherwise: the sysctl (initial namespace) is all there is.
        p.module_hashsize = conntrack_module ? p.buckets : 0;
        p.tcp_established_timeout_sec = config.tcp_established_timeout_sec;
        p.udp_stream_timeout_sec = config.udp_timeout_sec;
        p.tcp_be_liberal = config.ha_peer.has_value();
        return p;
}

std::vector<ConntrackSetting> conntrack_settings(const ConntrackPlan& plan) {
        // Buckets before the maximum: a resize is the expensive step.
        std::vector<ConntrackSetting> out;
        if (plan.buckets != 0)
                out.push_back({"net.netfilter.nf_conntrack_buckets", plan.buckets, true,
                               plan.buckets_configured});
        if (plan.max != 0)
                out.push_back(
                        {"net.netfilter.nf_conntrack_max", plan.max, true, plan.max_configured});
        out.push_back({"net.netfilter.nf_conntrack_tcp_timeout_established",
                       plan.tcp_established_timeout_sec, false, true});
        if (plan.udp_stream_timeout_sec)
                out.push_back({"net.netfilter.nf_conntrack_udp_timeout_stream",
                               *plan.udp_stream_timeout_sec, false, true});
        if (plan.tcp_be_liberal)
                out.push_back({"net.netfilter.nf_conntrack_tcp_be_liberal", 1, false, true});
        return out;
}

std::string render_conntrack_sysctls(const ConntrackPlan& plan) {
        std::string out;
        for (const auto& s : conntrack_settings(plan))
                out += s.key + " = " + std::to_string(s.value) + "\n";
        return out;
}

}  // namespace natd
