#include "kernel-committer.hpp"

#include <algorithm>

#include <linux/netlink.h>

#include "conntrack-settings.hpp"
#include "foreign-rules.hpp"
#include "forwarding.hpp"
#include "nft-ruleset.hpp"
#include "route-lookup.hpp"
#include "route.hpp"

namespace natd {

std::vector<std::string> Verification::all() const {
        std::vector<std::string> out = forwarding;
        out.insert(out.end(), conntrack.begin(), conntrack.end());
        out.insert(out.end(), ruleset.begin(), ruleset.end());
        out.insert(out.end(), routes.begin(), routes.end());
        return out;
}

Result<KernelCommitter> KernelCommitter::open() {
        auto rtnl = NetlinkSocket::open(NETLINK_ROUTE, false);
        if (!rtnl.ok())
                return rtnl.failure();
        auto nfnl = NetlinkSocket::open(NETLINK_NETFILTER, false);
        if (!nfnl.ok())
                return nfnl.failure();
        return KernelCommitter(std::move(rtnl).value(), std::move(nfnl).value());
}

Status KernelCommitter::apply_ruleset(const RulesetPlan& ruleset) {
        return replace_ruleset(nfnl_, ruleset);
}

Status KernelCommitter::sync_own_routes(const std::vector<RoutePlan>& wanted) {
        auto routes = read_routes(rtnl_);
        if (!routes.ok())
                return routes.failure();
        std::vector<std::string> errors;
        // Only natd's own routes are ever removed: proto 213, not wanted.
        std::vector<const RoutePlan*> kept;
        for (const auto& k : routes.value()) {
                if (k.protocol != kRouteProtocol)
                        continue;
                const RoutePlan* same = nullptr;
                for (const auto& r : wanted)
                        if (r.destination == k.destination && r.ifindex == k.ifindex &&
                            k.gateway == r.gateway && k.onlink == r.onlink)
                                same = &r;
                if (same != nullptr)
                        kept.push_back(same);
                else if (auto s = remove_route(rtnl_, k); !s.ok())
                        errors.push_back(s.error());
        }
        // Created, never replaced: a destination another route holds stays
        // its (verify() reports the conflict).
        std::vector<const RoutePlan*> missing;
        for (const auto& r : wanted) {
                // Kept, someone else's for the destination, or already there
                // as planned (networkd's from natd's drop-in).
                if (std::find(kept.begin(), kept.end(), &r) != kept.end() ||
                    conflicting_route(r, routes.value()) != nullptr ||
                    route_present(r, routes.value()))
                        continue;
                missing.push_back(&r);
        }
        for (auto& e : install_routes(rtnl_, missing))
                errors.push_back(std::move(e));
        return status_of(errors);
}

Status KernelCommitter::remove_all() {
        std::vector<std::string> errors;
        if (auto s = delete_ruleset(nfnl_, kTableName); !s.ok())
                errors.push_back(s.error());
        if (auto s = sync_own_routes({}); !s.ok())
                errors.push_back(s.error());
        return status_of(errors);
}

Result<std::vector<std::string>> KernelCommitter::find_blockers(const NatPlan& plan) {
        return find_forward_blockers(nfnl_, plan.public_interface.name, plan.private_interface.name,
                                     plan.source_cidrs);
}

std::string KernelCommitter::probe_flowtables() {
        auto s = probe_flowtable_support(nfnl_);
        if (s.ok())
                return {};
        return s.error();
}

Status KernelCommitter::set_conntrack(const ConntrackPlan& plan) {
        return apply_conntrack(plan);
}

Status KernelCommitter::set_forwarding(const NatPlan& plan) {
        if (auto s = set_ipv4_forwarding(plan.forwarding); !s.ok())
                return s;
        for (const auto* i : nat_interfaces(plan))
                if (auto s = set_interface_forwarding(i->name, plan.forwarding); !s.ok())
                        return s;
        if (plan.no_redirects)
                for (const auto& conf : {std::string("all"), plan.public_interface.name})
                        if (auto s = set_send_redirects(conf, false); !s.ok())
                                return s;
        return Ok{};
}

RouteAnswer KernelCommitter::lookup_route(const RouteQuery& query) {
        return natd::lookup_route(rtnl_, query);
}

Verification KernelCommitter::verify(const NatPlan& plan) {
        Verification v;
        bool all_on = true;
        bool all_read = true;
        auto check = [&](const Result<bool>& value, const std::string& key) {
                if (!value.ok()) {
                        v.forwarding.push_back(value.error());
                        all_read = false;
                        return;
                }
                all_on = all_on && value.value();
                if (value.value() != plan.forwarding)
                        v.forwarding.push_back(key + " is " + (value.value() ? "1" : "0"));
        };
        check(read_ipv4_forwarding(), "net.ipv4.ip_forward");
        // The kernel asks the input interface: both directions need both.
        for (const auto* i : nat_interfaces(plan))
                check(read_interface_forwarding(i->name), interface_forwarding_key(i->name));
        if (all_read)
                v.forwarding_enabled = all_on;
        // Part of forwarding: SetForwarding turns them off again.
        if (plan.no_redirects)
                for (const auto& conf : {std::string("all"), plan.public_interface.name}) {
                        auto on = read_send_redirects(conf);
                        if (!on.ok())
                                v.forwarding.push_back(on.error());
                        else if (on.value())
                                v.forwarding.push_back(send_redirects_key(conf) + " is 1");
                }

        auto conntrack = check_conntrack(plan.conntrack);
        v.conntrack = std::move(conntrack.drift);
        v.conntrack_notes = std::move(conntrack.notes);

        auto ruleset = read_ruleset(nfnl_, plan.ruleset.table);
        if (!ruleset.ok()) {
                v.ruleset.push_back(ruleset.error());
        } else {
                v.table_present = ruleset.value().present;
                v.ruleset = compare_ruleset(plan.ruleset, ruleset.value());
        }

        auto routes = read_routes(rtnl_);
        if (!routes.ok()) {
                v.routes.push_back(routes.error());
                v.routes_networkd.push_back(routes.error());
        } else {
                std::vector<RoutePlan> free;  // destinations no foreign route holds
                for (const auto& r : plan.routes) {
                        if (const KernelRoute* other = conflicting_route(r, routes.value())) {
                                v.route_conflicts.push_back(describe_conflict(r, *other));
                                continue;
                        }
                        free.push_back(r);
                }
                v.routes = compare_routes(free, routes.value(), RouteOwner::Natd);
                v.routes_networkd = compare_routes(free, routes.value(), RouteOwner::Networkd);
                for (const auto& r : routes.value())
                        v.own_routes += r.protocol == kRouteProtocol ? 1 : 0;
                for (const auto& r : plan.routes)
                        v.route_present.push_back(route_present(r, routes.value()));
        }
        return v;
}

}  // namespace natd
