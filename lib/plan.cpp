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

// How a link the selector matched was found, for status.
std::string match_source(const Selector& selector, const Link& link) {
        if (selector.is_mac())
                return "MAC";
        const std::string text = selector.str();
        if (link.name == text)
                return "name";
        for (const auto& a : link.altnames)
                if (a == text)
                        return "altname " + a;
        for (const auto& a : link.altnames)  // device-number-N against device-number-N.C
                if (a.starts_with(text + "."))
                        return "altname " + a;
        return "altname";
}

std::string describe(const EniMetadata& eni) {
        return eni.mac.str() + (eni.interface_id.empty() ? "" : " (" + eni.interface_id + ")");
}

struct RoleResolution {
        const Link* link = nullptr;
        std::string source;
};

// Resolves one selector: by name, altname or MAC, and a device-number-N no
// altname matches through IMDS (by MAC). On failure appends the reason and
// returns no link; where IMDS and an altname disagree, a note.
RoleResolution resolve_role(const char* role, const Selector& selector,
                            const std::vector<Link>& links, const ImdsFacts& imds,
                            std::vector<std::string>& reasons, std::vector<std::string>& notes) {
        const Resolution r = resolve(selector, links);
        const std::string what = std::string(role) + " interface (" + selector.str() + ")";
        if (!r.ambiguous.empty()) {
                reasons.push_back(what + ": matches several interfaces (" + names_of(r.ambiguous) +
                                  "); use a more specific selector");
                return {};
        }
        const auto number = selector.device_number();
        const EniMetadata* eni = number && imds.available()
                                         ? eni_by_device_number(imds.metadata, number->device,
                                                                number->network_card.value_or(0))
                                         : nullptr;
        if (r.link != nullptr) {
                if (eni != nullptr && r.link->mac && !(eni->mac == *r.link->mac))
                        notes.push_back(what + ": the altname is on " + r.link->name + " (" +
                                        r.link->mac->str() + "), IMDS says device-number " +
                                        std::to_string(number->device) + " is " + describe(*eni) +
                                        "; natd goes by the altname");
                return {r.link, match_source(selector, *r.link)};
        }
        if (!number || imds.state == ImdsState::Disabled) {
                reasons.push_back(what + ": no interface matches");
                return {};
        }
        if (imds.state == ImdsState::Pending) {
                reasons.push_back(what + ": no interface has that altname; waiting for IMDS");
                return {};
        }
        if (imds.state == ImdsState::Unavailable) {
                reasons.push_back(what +
                                  ": no interface has that altname, and IMDS is "
                                  "unavailable (" +
                                  imds.error + ")");
                return {};
        }
        if (eni == nullptr) {
                reasons.push_back(what +
                                  ": no interface has that altname, and IMDS lists no "
                                  "ENI with device-number " +
                                  std::to_string(number->device) + " (yet)");
                return {};
        }
        for (const auto& link : links)
                if (link.mac && *link.mac == eni->mac)
                        return {&link, "IMDS device-number " + std::to_string(number->device) +
                                               ": " + describe(*eni)};
        reasons.push_back(what + ": IMDS says device-number " + std::to_string(number->device) +
                          " is " + describe(*eni) + ", but no interface has that MAC (yet)");
        return {};
}

// The ENI the metadata service lists for `link`, when it answered.
const EniMetadata* imds_eni(const ImdsFacts& imds, const Link& link) {
        if (!imds.available() || !link.mac)
                return nullptr;
        return eni_by_mac(imds.metadata, *link.mac);
}

std::string cidrs_str(const std::vector<Ipv4Cidr>& cidrs) {
        std::vector<std::string> parts;
        parts.reserve(cidrs.size());
        for (const auto& c : cidrs)
                parts.push_back(c.str());
        return parts.empty() ? "none" : join(parts, " ");
}

// The networks a defaulted setting falls back to: the VPC's CIDR blocks as
// IMDS lists them for `eni`'s link. Waiting reasons while IMDS has not
// answered; none (and `source` says why) when it cannot.
std::vector<Ipv4Cidr> vpc_cidrs_default(const char* setting, const ImdsFacts& imds, bool required,
                                        const Link& link, std::vector<std::string>& reasons,
                                        std::string& source) {
        if (imds.state == ImdsState::Pending ||
            (required && imds.state == ImdsState::Unavailable)) {
                reasons.push_back(std::string(setting) +
                                  " is unset: waiting for IMDS's VPC CIDR blocks" +
                                  (imds.error.empty() ? "" : " (" + imds.error + ")"));
                return {};
        }
        if (const EniMetadata* eni = imds_eni(imds, link); eni && !eni->vpc_cidrs.empty()) {
                source = "IMDS vpc-ipv4-cidr-blocks of " + describe(*eni);
                return eni->vpc_cidrs;
        }
        source = std::string(setting) + " unset; " +
                 (imds.state == ImdsState::Disabled ? "IMDS=no"
                  : imds.state == ImdsState::Unavailable
                          ? "IMDS unavailable (" + imds.error + ")"
                          : "IMDS lists no VPC CIDR blocks for " + link.name);
        return {};
}

}  // namespace

std::vector<Ipv4Cidr> resolve_source_cidrs(const Config& config,
                                           const std::vector<Ipv4Cidr>& subnets,
                                           const Ipv4Cidr& private_subnet) {
        if (!config.source_cidrs.empty())
                return config.source_cidrs;
        std::vector<Ipv4Cidr> sources = subnets;
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

namespace {

// `egress`: the public ENI's addresses NAT traffic leaves from.
void add_facts(NatPlan& plan, const Config& config, const ImdsFacts& imds, const Link& pub,
               const std::vector<Ipv4Address>& egress, const std::vector<Ipv4Cidr>& subnets,
               const std::string& subnets_source, const std::string& sources_source) {
        plan.provenance.facts.push_back(
                {"public interface", plan.public_interface.name, plan.provenance.public_source});
        if (!plan.single_eni) {
                plan.provenance.facts.push_back({"private interface", plan.private_interface.name,
                                                 plan.provenance.private_source});
                plan.provenance.facts.push_back(
                        {"return routes", cidrs_str(subnets), subnets_source});
                plan.provenance.facts.push_back(
                        {"gateway", plan.gateway.str(),
                         config.gateway ? "Gateway="
                                        : "first host of the private ENI's subnet " +
                                                  plan.private_subnet.str()});
        }
        plan.provenance.facts.push_back(
                {"source CIDRs", cidrs_str(plan.source_cidrs),
                 plan.single_eni || !config.source_cidrs.empty()
                         ? sources_source
                         : "return routes' networks and the private ENI's subnet"});
        const EniMetadata* eni = imds_eni(imds, pub);
        if (eni == nullptr)
                return;
        for (const auto& ip : eni->public_ipv4s)
                plan.provenance.facts.push_back(
                        {"public IPv4", ip.str(), "IMDS public-ipv4s of " + describe(*eni)});
        // The public address each source address of NAT traffic maps to: the
        // Elastic IP the internet sees.
        // Every public address's association read: IMDS knows them all.
        const bool complete = eni->associations.size() == eni->public_ipv4s.size();
        for (const auto& source : egress) {
                const auto public_ip = public_ip_of(*eni, source);
                if (public_ip) {
                        plan.provenance.facts.push_back({"egress public IPv4", public_ip->str(),
                                                         "IMDS ipv4-associations of " +
                                                                 describe(*eni) + ": " +
                                                                 source.str()});
                        continue;
                }
                const std::string why = "IMDS associates no public IPv4 with " + source.str() +
                                        " of " + describe(*eni) +
                                        ": its traffic cannot reach the internet";
                plan.provenance.facts.push_back({"egress public IPv4", "none", why});
                // The internet gateway drops what leaves from it: not ready.
                // A pair's floating address is on this ENI only while this
                // NAT is active; the takeover confirms it (ha-role.hpp).
                const bool floating = plan.ha && source == plan.ha->floating_address;
                if (complete && !floating)
                        plan.address_problems.push_back(why + " (associate an Elastic IP with it)");
        }
}

// [HighAvailability]: the EC2 calls need both ENIs' ids, which only the
// metadata service knows; VRRP and the state sync need an address of this
// NAT on the peer's subnet.
std::optional<HaPlan> plan_ha(const Config& config, const std::vector<Link>& links,
                              const ImdsFacts& imds, const Link& pub, const Link& priv,
                              std::vector<std::string>& reasons, std::vector<std::string>& notes) {
        HaPlan ha;
        ha.peer = *config.ha_peer;
        ha.floating_address = *config.ha_floating_address;
        ha.route_tables = config.ha_route_tables;
        ha.priority = config.ha_priority;
        ha.virtual_router_id = config.ha_virtual_router_id;
        ha.advertisement_interval_msec = config.ha_advertisement_interval_msec;
        ha.preempt = config.ha_preempt;
        ha.ec2_endpoint = config.ec2_endpoint;
        ha.public_interface = pub.name;
        ha.public_ifindex = pub.ifindex;
        // The kernel lists the primary address first.
        ha.floating_cidr = Ipv4Cidr(ha.floating_address,
                                    pub.ipv4.empty() ? 32 : pub.ipv4.front().prefix_len());
        const Link* sync = &priv;
        if (config.ha_sync_interface) {
                sync = resolve_role("sync", *config.ha_sync_interface, links, imds, reasons, notes)
                               .link;
                if (sync == nullptr)
                        return std::nullopt;
        }
        ha.sync_interface = sync->name;
        const auto on_peer_subnet =
                std::find_if(sync->ipv4.begin(), sync->ipv4.end(),
                             [&](const Ipv4Cidr& c) { return c.network().contains(ha.peer); });
        if (on_peer_subnet == sync->ipv4.end()) {
                reasons.push_back("high availability: " + sync->name +
                                  " has no address on the subnet of Peer=" + ha.peer.str());
                return std::nullopt;
        }
        ha.sync_address = on_peer_subnet->address();
        if (ha.sync_address == ha.peer) {
                reasons.push_back("high availability: Peer=" + ha.peer.str() + " is " + sync->name +
                                  "'s own address");
                return std::nullopt;
        }
        const EniMetadata* pub_eni = imds_eni(imds, pub);
        const EniMetadata* priv_eni = imds_eni(imds, priv);
        if (pub_eni == nullptr || priv_eni == nullptr || pub_eni->interface_id.empty() ||
            priv_eni->interface_id.empty()) {
                reasons.push_back(std::string("high availability: the ENI ids of ") + pub.name +
                                  " and " + priv.name + " from IMDS (" +
                                  imds_state_name(imds.state) +
                                  (imds.error.empty() ? "" : ": " + imds.error) + ")");
                return std::nullopt;
        }
        ha.public_eni_id = pub_eni->interface_id;
        ha.private_eni_id = priv_eni->interface_id;
        ha.public_mac = pub_eni->mac;
        return ha;
}

}  // namespace

PlanOutcome make_plan(const Config& config, const std::vector<Link>& links,
                      const HostFacts& facts) {
        Waiting waiting;
        std::vector<std::string> notes;
        const RoleResolution pub_r = resolve_role("public", config.public_selector, links,
                                                  facts.imds, waiting.reasons, notes);
        const Link* pub = pub_r.link;
        const bool single_eni = !config.private_selector;
        const RoleResolution priv_r =
                single_eni ? RoleResolution{pub, "none"}
                           : resolve_role("private", *config.private_selector, links, facts.imds,
                                          waiting.reasons, notes);
        const Link* priv = priv_r.link;
        if (!single_eni && pub != nullptr && priv != nullptr && pub->ifindex == priv->ifindex) {
                waiting.reasons.push_back("public (" + config.public_selector.str() +
                                          ") and private (" + config.private_selector->str() +
                                          ") select the same interface " + pub->name);
                return waiting;
        }
        // Unset, they default to the VPC's CIDR blocks from IMDS: Subnets=
        // (the return routes) and, single ENI, SourceCIDRs=.
        const bool imds_required = config.imds == ImdsMode::Yes;
        std::vector<Ipv4Cidr> subnets = config.subnets;
        std::string subnets_source = "Subnets=";
        std::vector<Ipv4Cidr> single_sources = config.source_cidrs;
        std::string sources_source = "SourceCIDRs=";
        if (!single_eni && subnets.empty() && priv != nullptr)
                subnets = vpc_cidrs_default("[Routes] Subnets=", facts.imds, imds_required, *priv,
                                            waiting.reasons, subnets_source);
        if (single_eni && single_sources.empty() && pub != nullptr) {
                const size_t reasons_before = waiting.reasons.size();
                single_sources = vpc_cidrs_default("[NAT] SourceCIDRs=", facts.imds, imds_required,
                                                   *pub, waiting.reasons, sources_source);
                if (single_sources.empty() && waiting.reasons.size() == reasons_before)
                        waiting.reasons.push_back("Private=none needs [NAT] SourceCIDRs= (" +
                                                  sources_source + ")");
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
        std::optional<HaPlan> ha;
        if (config.ha_peer && pub != nullptr && priv != nullptr && waiting.reasons.empty())
                ha = plan_ha(config, links, facts.imds, *pub, *priv, waiting.reasons, notes);
        if (!waiting.reasons.empty())
                return waiting;

        NatPlan plan;
        plan.ha = ha;
        plan.public_interface = {config.public_selector.str(), pub->ifindex, pub->name};
        plan.provenance.public_source = pub_r.source;
        plan.provenance.private_source = priv_r.source;
        plan.provenance.discovery_notes = std::move(notes);
        plan.single_eni = single_eni;
        plan.no_redirects = single_eni;
        if (single_eni) {
                plan.private_interface = {"none", pub->ifindex, pub->name};
                plan.source_cidrs = single_sources;
        } else {
                plan.private_interface = {config.private_selector->str(), priv->ifindex,
                                          priv->name};
                // The kernel lists the primary address first: the ENI's own address.
                plan.private_subnet = priv->ipv4.front().network();
                plan.gateway = config.gateway.value_or(plan.private_subnet.first_host());
                plan.source_cidrs = resolve_source_cidrs(config, subnets, plan.private_subnet);
        }
        std::vector<Ipv4Address> pool;
        // A pair SNATs to the floating address whether this NAT holds it or
        // not: the standby's rules are ready, and the connections conntrackd
        // commits on a takeover carry bindings to it.
        if (ha)
                pool.push_back(ha->floating_address);
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
        // Masquerade: the kernel lists the primary address first.
        std::vector<Ipv4Address> egress = pool;
        if (egress.empty() && !pub->ipv4.empty())
                egress.push_back(pub->ipv4.front().address());
        plan.ruleset =
                make_nat_ruleset({pub->name, priv->name, plan.source_cidrs, config.forward_policy,
                                  config.port_allocation, config.port_range, config.clamp_mss,
                                  flow_offload, std::move(pool), config.pool_mode, single_eni});
        plan.conntrack = plan_conntrack(config, facts.memory_bytes, facts.conntrack_module);
        add_facts(plan, config, facts.imds, *pub, egress, subnets, subnets_source, sources_source);
        if (single_eni)
                return plan;  // Subnets= is empty (config.cpp): no routes
        // Inside or equal: a wider destination (the VPC's CIDR) is fine, the
        // connected routes stay more specific.
        auto within = [](const Ipv4Cidr& inner, const Ipv4Cidr& outer) {
                return inner.prefix_len() >= outer.prefix_len() && outer.contains(inner.address());
        };
        for (const auto& subnet : subnets) {
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
