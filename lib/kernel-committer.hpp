// The imperative edge: writes a NatPlan into the kernel and reads the
// kernel back to verify it. Everything else in natd only computes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "data-path.hpp"
#include "kernel-status.hpp"
#include "netlink-socket.hpp"
#include "plan.hpp"
#include "result.hpp"
#include "route.hpp"

namespace natd {

// What verification found, by part, one sentence per difference.
struct Verification {
        std::vector<std::string> forwarding;
        std::vector<std::string> conntrack;  // a setting natd can set differs
        std::vector<std::string> ruleset;
        std::vector<std::string> routes;           // missing, whoever installs them
        std::vector<std::string> routes_networkd;  // missing among routes networkd installed
        size_t own_routes = 0;                     // routes with natd's protocol in the kernel
        // Planned routes whose destination another route holds (an admin's,
        // a VPN's): natd leaves those alone and says so. Not in `routes`.
        std::vector<std::string> route_conflicts;

        // Configured conntrack settings natd cannot set here (read-only in a
        // network namespace): said, not repaired.
        std::vector<std::string> conntrack_notes;

        // What was read, for status.
        std::optional<bool> forwarding_enabled;  // globally and on both interfaces
        bool table_present = false;
        std::vector<bool> route_present;  // per planned route, whoever installed it

        [[nodiscard]] bool ok() const {
                return forwarding.empty() && conntrack.empty() && ruleset.empty() && routes.empty();
        }
        [[nodiscard]] std::vector<std::string> all() const;
};

class KernelCommitter {
public:
        static Result<KernelCommitter> open();

        // net.ipv4.ip_forward, then each of the plan's interfaces' own
        // forwarding switch.
        Status set_forwarding(const NatPlan& plan);
        // Whether nftables has flowtables here: empty, or why not.
        std::string probe_flowtables();
        // [Conntrack]'s sysctls, as far as this namespace lets natd.
        Status set_conntrack(const ConntrackPlan& plan);
        // The nftables table, in one transaction.
        Status apply_ruleset(const RulesetPlan& ruleset);
        // natd's own routes (kRouteProtocol) become exactly `wanted`: the
        // others are removed, the wanted ones installed or replaced. With
        // `wanted` empty, natd leaves return routing to systemd-networkd.
        Status sync_own_routes(const std::vector<RoutePlan>& wanted);

        // Reads forwarding, the table and the routes back.
        Verification verify(const NatPlan& plan);
        RouteAnswer lookup_route(const RouteQuery& query);

        // Removes natd's table and natd's own routes: what `natd --teardown`
        // undoes in the kernel.
        Status remove_all();

        // Rules of other tables that drop the plan's NAT traffic.
        Result<std::vector<std::string>> find_blockers(const NatPlan& plan);

        // The table's rule counters, for status.
        Result<RulesetCounters> read_counters() { return read_rule_counters(nfnl_); }

private:
        KernelCommitter(NetlinkSocket rtnl, NetlinkSocket nfnl)
            : rtnl_(std::move(rtnl)), nfnl_(std::move(nfnl)) {}

        NetlinkSocket rtnl_;
        NetlinkSocket nfnl_;
};

}  // namespace natd
