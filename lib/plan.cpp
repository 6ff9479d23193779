#include "plan.hpp"

#include <algorithm>

namespace natd {

namespace {

std::string names_of(const std::vector<const Link*>& links) {
        std::vector<std::string> names;
        names.reserve(links.size());
        for (const auto* l : links)
                names.push_back(l->name);
        return join(names, ", ");
}

// Resolves one selector; on failure appends the reason and returns nullptr.
const Link* resolve_role(const char* role, const Selector& selector, const std::vector<Link>& links,
                         std::vector<std::string>& reasons) {
        const Resolution r = resolve(selector, links);
        const std::string what = std::string(role) + " interface (" + selector.str() + ")";
        if (!r.ambiguous.empty()) {
                reasons.push_back(what + ": matches several interfaces (" + names_of(r.ambiguous) +
                                  "); use a more specific selector");
                return nullptr;
        }
        if (r.link == nullptr) {
                reasons.push_back(what + ": no interface matches");
                return nullptr;
        }
        return r.link;
}

}  // namespace

std::vector<Ipv4Cidr> resolve_source_cidrs(const Config& config, const Ipv4Cidr& private_subnet) {
        if (!config.source_cidrs.empty())
                return config.source_cidrs;
        std::vector<Ipv4Cidr> sources = config.subnets;
        // Subnets may already hold the ENI's subnet, or a network around it:
        // one rule fewer then.
        const bool covered = std::any_of(sources.begin(), sources.end(), [&](const Ipv4Cidr& s) {
                return s.prefix_len() <= private_subnet.prefix_len() &&
                       s.contains(private_subnet.address());
        });
        if (!covered)
                sources.push_back(private_subnet);
        return sources;
}

std::string Waiting::str() const {
        return join(reasons);
}

std::vector<const ResolvedInterface*> nat_interfaces(const NatPlan& plan) {
        if (plan.single_eni)
                return {&plan.public_interface};
        return {&plan.private_interface, &plan.public_interface};
}

PlanOutcome make_plan(const Config& config, const std::vector<Link>& links,
                      const HostFacts& facts) {
        Waiting waiting;
        const Link* pub = resolve_role("public", config.public_selector, links, waiting.reasons);
        const bool single_eni = !config.private_selector;
        const Link* priv = single_eni ? pub
                                      : resolve_role("private", *config.private_selector, links,
                                                     waiting.reasons);
        if (!single_eni && pub != nullptr && priv != nullptr && pub->ifindex == priv->ifindex) {
                waiting.reasons.push_back("public (" + config.public_selector.str() +
                                          ") and private (" + config.private_selector->str() +
                                          ") select the same interface " + pub->name);
                return waiting;
        }
        // Routes cannot go through a link that is down ("Network is down"):
        // a link taken down to be renamed comes back up moments later.
        // Single ENI: no routes, and the data path check says what a public
        // ENI that is down or has no address breaks.
        if (!single_eni && priv != nullptr && !priv->up)
                waiting.reasons.push_back("private interface " + priv->name + " (" +
                                          config.private_selector->str() + "): link is down");
        else if (!single_eni && priv != nullptr && priv->ipv4.empty())
                waiting.reasons.push_back("private interface " + priv->name + " (" +
                                          config.private_selector->str() +
                                          "): no IPv4 address yet");
        // Required but impossible: nothing is applied, and status says why.
        if (config.flow_offload == FlowOffload::Yes && !facts.no_flowtables.empty())
                waiting.reasons.push_back(
                        "FlowOffload=yes, but this kernel has no nftables flowtables (" +
                        facts.no_flowtables + "): set FlowOffload=auto or no");
        if (!waiting.reasons.empty())
                return waiting;

        NatPlan plan;
        plan.public_interface = {config.public_selector.str(), pub->ifindex, pub->name};
        plan.single_eni = single_eni;
        plan.no_redirects = single_eni;
        if (single_eni) {
                plan.private_interface = {"none", pub->ifindex, pub->name};
                // Required with Private=none (config.cpp).
                plan.source_cidrs = config.source_cidrs;
        } else {
                plan.private_interface = {config.private_selector->str(), priv->ifindex,
                                          priv->name};
                // The kernel lists the primary address first: the ENI's own address.
                plan.private_subnet = priv->ipv4.front().network();
                plan.gateway = config.gateway.value_or(plan.private_subnet.first_host());
                plan.source_cidrs = resolve_source_cidrs(config, plan.private_subnet);
        }
        std::vector<Ipv4Address> pool;
        for (const auto& a : config.nat_addresses) {
                const bool assigned =
                        std::any_of(pub->ipv4.begin(), pub->ipv4.end(),
                                    [&](const Ipv4Cidr& c) { return c.address() == a; });
                if (assigned)
                        pool.push_back(a);
                else
                        plan.address_problems.push_back(
                                "Addresses=" + a.str() + " is not an address of " + pub->name +
                                ": natd leaves it out of the pool until it is");
        }
        const bool flow_offload =
                config.flow_offload != FlowOffload::No && facts.no_flowtables.empty();
        plan.flow_offload = flow_offload ? "on"
                            : config.flow_offload == FlowOffload::No
                                    ? "off (FlowOffload=no)"
                                    : "unavailable: this kernel has no nftables flowtables (" +
                                              facts.no_flowtables +
                                              "); established flows take the forward path";
        // None there: masquerade meanwhile, and say so (degraded).
        plan.ruleset =
                make_nat_ruleset({pub->name, priv->name, plan.source_cidrs, config.forward_policy,
                                  config.port_allocation, config.port_range, config.clamp_mss,
                                  flow_offload, std::move(pool), config.pool_mode, single_eni});
        plan.conntrack = plan_conntrack(config, facts.memory_bytes, facts.conntrack_module);
        if (single_eni)
                return plan;  // Subnets= is empty (config.cpp): no routes
        // Inside or equal: a wider destination (the VPC's CIDR) is fine, the
        // connected routes stay more specific.
        auto within = [](const Ipv4Cidr& inner, const Ipv4Cidr& outer) {
                return inner.prefix_len() >= outer.prefix_len() && outer.contains(inner.address());
        };
        for (const auto& subnet : config.subnets) {
                if (subnet == plan.private_subnet)
                        continue;  // reachable directly on the private ENI
                const Ipv4Cidr* public_subnet = nullptr;
                for (const auto& a : pub->ipv4)
                        if (within(subnet, a.network()))
                                public_subnet = &a;
                if (public_subnet != nullptr) {
                        plan.route_problems.push_back(
                                "Subnets=" + subnet.str() + " is " +
                                (subnet == public_subnet->network() ? "" : "inside ") +
                                "the public ENI " + pub->name + "'s own subnet " +
                                public_subnet->network().str() +
                                ": not routing it back into the VPC");
                        continue;
                }
                if (within(subnet, plan.private_subnet)) {
                        plan.route_problems.push_back("Subnets=" + subnet.str() +
                                                      " is inside the private ENI " + priv->name +
                                                      "'s own subnet " + plan.private_subnet.str() +
                                                      ": reachable there directly, no route added");
                        continue;
                }
                plan.routes.push_back({subnet, plan.gateway, priv->ifindex, priv->name, true});
        }
        return plan;
}

std::string summarize(const NatPlan& plan) {
        if (plan.single_eni)
                return "NAT on " + plan.public_interface.name + " (single ENI)";
        std::string out = "NAT " + plan.private_interface.name + " -> " +
                          plan.public_interface.name + ", " + std::to_string(plan.routes.size()) +
                          " return route" + (plan.routes.size() == 1 ? "" : "s");
        if (!plan.routes.empty())
                out += " via " + plan.gateway.str();
        return out;
}

}  // namespace natd
