// The conntrack sysctls of conntrack-plan.hpp, written and read back
// through /proc/sys/net/netfilter (the only interface the kernel has for
// them). nf_conntrack_max and nf_conntrack_buckets are global to the
// kernel: writable in the initial network namespace only, read-only (mode
// 0444) in any other. There natd leaves them and says so, when they were
// configured, rather than failing.
#pragma once

#include <string>
#include <vector>

#include "conntrack-plan.hpp"
#include "result.hpp"

namespace natd {

struct ConntrackCheck {
        // A setting natd can set that differs: drift, repaired.
        std::vector<std::string> drift;
        // A configured setting natd cannot set here, one sentence each.
        std::vector<std::string> notes;
};

// Writes every setting that differs and can be written; errors name it.
Status apply_conntrack(const ConntrackPlan& plan);
ConntrackCheck check_conntrack(const ConntrackPlan& plan);

}  // namespace natd
