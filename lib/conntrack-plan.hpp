// [Conntrack]: the connection-tracking limits and timeouts natd sets, as
// plain data. A NAT instance tracks every connection it translates; the
// kernel sizes the table from memory at boot (a few thousand entries on a
// small instance) and keeps idle established TCP for 5 days, while NAT
// Gateway (and EC2's own connection tracking) forgets idle connections
// after 350 s.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"

namespace natd {

// What conntrack costs per entry, with NAT's extensions: struct nf_conn is
// about 256 bytes on 6.x, the nat and acct extensions and the slab's
// rounding make ~384.
inline constexpr uint64_t kConntrackEntryBytes = 384;
// A small instance (0.5 GiB) still holds this many.
inline constexpr uint32_t kConntrackMinimumAuto = 65536;
// nf_ct_alloc_hashtable rounds the hash up to whole pages of 8-byte
// buckets.
inline constexpr uint32_t kConntrackBucketsPerPage = 512;
// Status warns when the table is fuller than this (percent).
inline constexpr unsigned kConntrackWarnPercent = 80;

struct ConntrackPlan {
        uint32_t max = 0;                 // 0: the kernel's (memory unknown)
        uint32_t buckets = 0;             // 0: the kernel's
        bool max_configured = false;      // Max= set: not applying it is worth a warning
        bool buckets_configured = false;  // HashSize= set
        uint32_t tcp_established_timeout_sec = 0;
        std::optional<uint32_t> udp_stream_timeout_sec;
        // A pair ([HighAvailability]): TCP window tracking made liberal.
        // While EC2 moves the address and the routes in two calls, and
        // after a takeover whose committed entries lag the peer's windows,
        // a NAT sees a connection's packets one way only, or ahead of what
        // it tracked: strict tracking marks them invalid and natd's forward
        // chain drops them (conntrack-tools recommends the same for state
        // sync).
        bool tcp_be_liberal = false;
        // nf_conntrack's "hashsize" parameter for modprobe.d, where it is a
        // loadable module (kernel-module.hpp): the table then has its size
        // from the moment the module loads at boot. 0: no such file (built
        // in, or the kernel's own sizing).
        uint32_t module_hashsize = 0;

        bool operator==(const ConntrackPlan&) const = default;
};

// Max=auto: one entry per 8 KiB of memory, at least kConntrackMinimumAuto
// unless that is more than a quarter of memory's worth of entries (below
// ~96 MiB), never more. HashSize=auto: one bucket per entry (8 bytes each),
// the kernel's own ratio since 5.x; either rounded up to a multiple of
// kConntrackBucketsPerPage as the kernel does. `memory_bytes` 0 (unknown)
// leaves Max= and HashSize= auto to the kernel. `conntrack_module`:
// nf_conntrack is a loadable module (HostFacts), so the planned hash size
// is also its module parameter.
ConntrackPlan plan_conntrack(const Config& config, uint64_t memory_bytes,
                             bool conntrack_module = false);

// One sysctl natd sets: "net.netfilter.nf_conntrack_max" and its value.
struct ConntrackSetting {
        std::string key;
        uint32_t value = 0;
        bool global = false;      // one value for the whole kernel: read-only in other namespaces
        bool configured = false;  // from an explicit key, not auto

        bool operator==(const ConntrackSetting&) const = default;
};
std::vector<ConntrackSetting> conntrack_settings(const ConntrackPlan& plan);

// "net.netfilter.nf_conntrack_max = 65536\n"..., for natd's sysctl.d file.
std::string render_conntrack_sysctls(const ConntrackPlan& plan);

}  // namespace natd
