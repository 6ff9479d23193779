#include "kernel-committer.hpp"

#include <linux/netlink.h>

#include "foreign-rules.hpp"
#include "forwarding.hpp"
#include "nft-ruleset.hpp"
#include "route.hpp"

namespace natd {

std::vector<std::string> Verification::all() const {
        std::vector<std::string> out = forwarding;
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
        for (const auto& k : routes.value()) {
                if (k.protocol != kRouteProtocol)
                        continue;
                bool keep = false;
                for (const auto& r : wanted)
                        keep = keep || (r.destination == k.destination && r.ifindex == k.ifindex &&
                                        k.gateway == r.gateway);
                if (!keep)
                        if (auto s = remove_route(rtnl_, k); !s.ok())
                                errors.push_back(s.error());
        }
        for (const auto& r : wanted)
                if (auto s = install_route(rtnl_, r); !s.ok())
                        errors.push_back(s.error());
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

Result<std::vector<std::string>> KernelCommitter::find_blockers() {
        return find_forward_blockers(nfnl_);
}

Verification KernelCommitter::verify(const NatPlan& plan) {
        Verification v;
        auto forwarding = read_ipv4_forwarding();
        if (forwarding.ok())
                v.forwarding_enabled = forwarding.value();
        if (!forwarding.ok())
                v.forwarding.push_back(forwarding.error());
        else if (forwarding.value() != plan.forwarding)
                v.forwarding.push_back(std::string("net.ipv4.ip_forward is ") +
                                       (forwarding.value() ? "1" : "0"));

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
                v.routes = compare_routes(plan.routes, routes.value(), RouteOwner::Natd);
                v.routes_networkd =
                        compare_routes(plan.routes, routes.value(), RouteOwner::Networkd);
                for (const auto& r : routes.value())
                        v.own_routes += r.protocol == kRouteProtocol ? 1 : 0;
                for (const auto& r : plan.routes)
                        v.route_present.push_back(route_present(r, routes.value()));
        }
        return v;
}

}  // namespace natd
