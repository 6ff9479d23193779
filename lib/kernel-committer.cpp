#include "kernel-committer.hpp"

#include <linux/netlink.h>

#include "forwarding.hpp"
#include "nft-ruleset.hpp"
#include "route.hpp"

namespace natd {

Result<KernelCommitter> KernelCommitter::open() {
        auto rtnl = NetlinkSocket::open(NETLINK_ROUTE, false);
        if (!rtnl.ok())
                return Error{rtnl.error()};
        auto nfnl = NetlinkSocket::open(NETLINK_NETFILTER, false);
        if (!nfnl.ok())
                return Error{nfnl.error()};
        return KernelCommitter(std::move(rtnl).value(), std::move(nfnl).value());
}

Status KernelCommitter::apply(const NatPlan& plan) {
        std::vector<std::string> errors;
        if (auto s = set_ipv4_forwarding(plan.forwarding); !s.ok())
                errors.push_back(s.error());
        if (auto s = replace_ruleset(nfnl_, plan.ruleset); !s.ok())
                errors.push_back(s.error());

        auto routes = read_routes(rtnl_);
        if (!routes.ok()) {
                errors.push_back(routes.error());
        } else {
                // Sweep natd's own routes that the plan no longer wants (an old
                // interface, a subnet removed from the configuration).
                for (const auto& k : routes.value()) {
                        if (k.protocol != kRouteProtocol)
                                continue;
                        bool wanted = false;
                        for (const auto& r : plan.routes)
                                wanted = wanted ||
                                         (r.destination == k.destination &&
                                          r.ifindex == k.ifindex && k.gateway == r.gateway);
                        if (!wanted)
                                if (auto s = remove_route(rtnl_, k); !s.ok())
                                        errors.push_back(s.error());
                }
        }
        for (const auto& r : plan.routes)
                if (auto s = install_route(rtnl_, r); !s.ok())
                        errors.push_back(s.error());

        if (errors.empty())
                return Ok{};
        std::string message;
        for (const auto& e : errors)
                message += (message.empty() ? "" : "; ") + e;
        return Error{message};
}

std::vector<std::string> KernelCommitter::verify(const NatPlan& plan) {
        std::vector<std::string> diffs;
        auto forwarding = read_ipv4_forwarding();
        if (!forwarding.ok())
                diffs.push_back(forwarding.error());
        else if (forwarding.value() != plan.forwarding)
                diffs.push_back(std::string("net.ipv4.ip_forward is ") +
                                (forwarding.value() ? "1" : "0"));

        auto ruleset = read_ruleset(nfnl_, plan.ruleset.table);
        if (!ruleset.ok()) {
                diffs.push_back(ruleset.error());
        } else {
                auto d = compare_ruleset(plan.ruleset, ruleset.value());
                diffs.insert(diffs.end(), d.begin(), d.end());
        }

        auto routes = read_routes(rtnl_);
        if (!routes.ok()) {
                diffs.push_back(routes.error());
        } else {
                auto d = compare_routes(plan.routes, routes.value());
                diffs.insert(diffs.end(), d.begin(), d.end());
        }
        return diffs;
}

}  // namespace natd
