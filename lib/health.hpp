// GET /health ([Health] Listen=) for load-balancer and autoscaling health
// checks: 200 when this NAT is ready, 503 otherwise; ?role=active (or
// standby) 200 only when it is also in that role. Pure: the answer follows
// from natd's status, so it is unit-tested and says the same as
// `natd-ctl status` (doc/health-api.txt).
#pragma once

#include <map>
#include <string>

#include "daemon-status.hpp"

namespace natd {

struct HealthAnswer {
        unsigned status = 503;
        std::string body;  // JSON: {"healthy", "state", "role", "reason"}
};

inline constexpr const char* kHealthPath = "/health";

// `role`: this NAT's in its pair ("active", "standby", "fault"); empty
// without a pair. `query`: the request's decoded arguments; "role" is the
// only one known.
HealthAnswer health_answer(const DaemonStatus& status, const std::string& role,
                           const std::map<std::string, std::string>& query);

}  // namespace natd
