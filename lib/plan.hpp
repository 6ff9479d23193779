// The planner: a pure function from configuration and the links the kernel
// has to the state natd wants (forwarding, ruleset, routes), or to what it
// is still waiting for.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "config.hpp"
#include "conntrack-plan.hpp"
#include "ha-plan.hpp"
#include "imds-metadata.hpp"
#include "ipv4.hpp"
#include "link.hpp"
#include "ruleset-plan.hpp"

namespace natd {

struct RoutePlan {
        Ipv4Cidr destination;
        Ipv4Address gateway;
        int ifindex = 0;
        std::string ifname;  // for messages; the kernel keys on ifindex
        // VPC routers answer on the subnet's .1 whatever the prefix: onlink
        // spares the kernel a reachability check.
        bool onlink = true;

        bool operator==(const RoutePlan&) const = default;
};

struct ResolvedInterface {
        std::string selector;  // as configured
        int ifindex = 0;
        std::string name;

        bool operator==(const ResolvedInterface&) const = default;
};

// One thing natd planned from, where it came from, for status:
// {"return routes", "10.0.0.0/16", "IMDS vpc-ipv4-cidr-blocks of eni-..."}.
struct PlanFact {
        std::string fact;
        std::string value;
        std::string source;

        bool operator==(const PlanFact&) const = default;
};

// Where a plan's inputs came from, for status only. Two plans that differ
// only here are the same plan: a new wording of why IMDS did not answer must
// not make natd reconfigure.
struct PlanProvenance {
        // How the selectors found the ENIs: "name", "MAC", "altname
        // device-number-1.0", "IMDS device-number 1: 02:..:0a (eni-...)";
        // "none" for the private one in single-ENI mode.
        std::string public_source;
        std::string private_source;
        // What the plan rests on and where each came from (configuration,
        // altnames, IMDS).
        std::vector<PlanFact> facts;
        // Where IMDS and the altnames disagree (natd goes by the altname).
        std::vector<std::string> discovery_notes;

        bool operator==(const PlanProvenance& /*other*/) const { return true; }
};

struct NatPlan {
        ResolvedInterface public_interface;
        // Single-ENI mode: the public interface again, selector "none".
        ResolvedInterface private_interface;
        // [Interfaces] Private=none: traffic from SourceCIDRs= arrives on the
        // public ENI and leaves through it (hairpin). No return routes, no
        // drop-in: the ENI's subnet router reaches the private subnets.
        bool single_eni = false;
        Ipv4Cidr private_subnet;  // the private ENI's own subnet; single ENI: unused
        // [NAT] SourceCIDRs= with its default resolved (resolve_source_cidrs).
        std::vector<Ipv4Cidr> source_cidrs;
        Ipv4Address gateway;
        bool forwarding = true;
        // Single ENI: net.ipv4.conf.{all,PUBLIC}.send_redirects = 0. A packet
        // forwarded out of the interface it came in on makes the kernel send
        // the sender an ICMP redirect to the next hop; private hosts must
        // keep sending through the NAT.
        bool no_redirects = false;
        RulesetPlan ruleset;
        ConntrackPlan conntrack;
        std::vector<RoutePlan> routes;
        // Subnets= entries natd does not route back, one sentence each:
        // the public ENI's own subnet (or inside it), or strictly inside the
        // private ENI's. A route for them would replace the kernel's
        // connected route. They make a verified NAT degraded.
        std::vector<std::string> route_problems;
        // [NAT] Addresses= entries the public ENI does not have, one sentence
        // each: left out of the pool (AWS would not route their replies),
        // they make a verified NAT degraded until the address is there.
        std::vector<std::string> address_problems;
        // [NAT] FlowOffload= as planned: "on", "off (FlowOffload=no)", or
        // "unavailable: ..." (auto, on a kernel without flowtables).
        std::string flow_offload;
        PlanProvenance provenance;
        // [HighAvailability] Peer=: the pair; none without one.
        std::optional<HaPlan> ha;

        bool operator==(const NatPlan&) const = default;
};

// Not ready to plan: one human sentence per missing piece, e.g.
// "private interface (device-number-1): no interface matches".
struct Waiting {
        std::vector<std::string> reasons;

        [[nodiscard]] std::string str() const;  // reasons joined with "; "
        bool operator==(const Waiting&) const = default;
};

using PlanOutcome = std::variant<Waiting, NatPlan>;

// [NAT] SourceCIDRs= as configured or, when empty, `subnets` (Subnets= or
// its IMDS default) plus the private ENI's own subnet unless one of them
// already covers it.
std::vector<Ipv4Cidr> resolve_source_cidrs(const Config& config,
                                           const std::vector<Ipv4Cidr>& subnets,
                                           const Ipv4Cidr& private_subnet);

// What the planner needs to know of the host beyond its links.
struct HostFacts {
        uint64_t memory_bytes = 0;  // for [Conntrack] Max=auto (0: unknown)
        // Empty: the kernel has nftables flowtables; else why not.
        std::string no_flowtables = "not probed";
        // nf_conntrack is a loadable module (kernel-module.hpp): its hash
        // size also goes to a modprobe.d option. False where it is built
        // in or natd cannot tell.
        bool conntrack_module = false;
        // The instance metadata service: device-number selectors without an
        // altname, Subnets= and (single ENI) SourceCIDRs= default from it.
        ImdsFacts imds;
};

PlanOutcome make_plan(const Config& config, const std::vector<Link>& links,
                      const HostFacts& facts = {});

// The interfaces natd sets forwarding on: private and public, or the one
// ENI in single-ENI mode.
std::vector<const ResolvedInterface*> nat_interfaces(const NatPlan& plan);

// "NAT ens6 -> ens5, 2 return routes via 10.0.1.1" (single ENI: "NAT on
// ens5 (single ENI)"), for STATUS= and logs.
std::string summarize(const NatPlan& plan);

}  // namespace natd
