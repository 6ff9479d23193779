#include "ruleset-plan.hpp"

#include <netinet/in.h>

#include <linux/netfilter_ipv4.h>

namespace natd {

const char* rule_role_name(RuleRole role) {
        switch (role) {
        case RuleRole::Masquerade:
                return "masquerade";
        case RuleRole::DropInvalid:
                return "drop-invalid";
        case RuleRole::ForwardOut:
                return "forward-out";
        case RuleRole::DropOut:
                return "drop-out";
        case RuleRole::ReturnIn:
                return "return-in";
        case RuleRole::DropIn:
                return "drop-in";
        case RuleRole::DropHairpin:
                return "drop-hairpin";
        case RuleRole::DropOther:
                return "drop-other";
        case RuleRole::ClampMss:
                return "clamp-mss";
        case RuleRole::Snat:
                return "snat";
        case RuleRole::FlowOffload:
                return "flow-offload";
        }
        return "unknown";
}

RulesetPlan make_nat_ruleset(const NatRulesetInput& input) {
        RulesetPlan plan;
        plan.chains = {
                {"postrouting", ChainType::Nat, Hook::Postrouting, NF_IP_PRI_NAT_SRC},
                {"forward", ChainType::Filter, Hook::Forward, NF_IP_PRI_FILTER},
        };
        const MatchInputInterface from_private{input.private_ifname};
        const MatchInputInterface from_public{input.public_ifname};
        const MatchOutputInterface to_public{input.public_ifname};
        const MatchOutputInterface to_private{input.private_ifname};
        auto rule = [&](const char* chain, RuleRole role, std::vector<RuleMatch> matches,
                        RuleAction action) -> RulePlan& {
                RulePlan r;
                r.chain = chain;
                r.role = role;
                r.matches = std::move(matches);
                r.action = action;
                return plan.rules.emplace_back(std::move(r));
        };
        // Source CIDRs are matched one rule per prefix (payload, bitwise,
        // cmp), not with a set: a VPC lists a handful of subnets; at 4 the
        // measured difference to a set is within the noise, and per-prefix
        // rules need no set objects to create and verify. At 64 a set is
        // twice as cheap: doc/ruleset.txt has the figures.
        //
        // The postrouting hook sees the input interface of forwarded packets,
        // so only traffic that came in on the private ENI is masqueraded.
        // A port range needs the transport protocol: TCP and UDP get the
        // range, everything else (ICMP ids) the kernel's choice.
        // A pool of N addresses is N rules per source, each taking its
        // share: by a hash of the client's address (persistent), or at random
        // with odds 1/N, 1/(N-1), ... 1 (uniform). The last takes the rest.
        const auto pool_size = static_cast<uint32_t>(input.snat_addresses.size());
        auto nat_rules = [&](const std::vector<RuleMatch>& matches,
                             const std::optional<PortRange>& ports) {
                if (pool_size == 0) {
                        rule("postrouting", RuleRole::Masquerade, matches, RuleAction::Masquerade)
                                .masquerade = {input.port_allocation, ports};
                        return;
                }
                for (uint32_t i = 0; i < pool_size; ++i) {
                        auto with_slot = matches;
                        if (i + 1 < pool_size)
                                with_slot.emplace_back(
                                        input.pool_mode == PoolMode::Persistent
                                                ? MatchPoolSlot{PoolMode::Persistent, pool_size, i}
                                                : MatchPoolSlot{PoolMode::Random, pool_size - i,
                                                                0});
                        auto& r = rule("postrouting", RuleRole::Snat, std::move(with_slot),
                                       RuleAction::Snat);
                        r.masquerade = {input.port_allocation, ports};
                        r.snat_to = input.snat_addresses[i];
                }
        };
        for (const auto& cidr : input.source_cidrs) {
                std::vector<RuleMatch> base{from_private, to_public, MatchSourcePrefix{cidr}};
                if (input.port_range)
                        for (uint8_t protocol : {uint8_t{IPPROTO_TCP}, uint8_t{IPPROTO_UDP}}) {
                                auto matches = base;
                                matches.emplace_back(MatchProtocol{protocol});
                                nat_rules(matches, input.port_range);
                        }
                nat_rules(base, std::nullopt);
        }
        // Invalid packets first: conntrack cannot NAT them, and accepted they
        // would leave with their private source address.
        if (!input.single_eni)
                rule("forward", RuleRole::DropInvalid, {from_private, MatchInvalid{}},
                     RuleAction::Drop);
        rule("forward", RuleRole::DropInvalid, {from_public, MatchInvalid{}}, RuleAction::Drop);
        // Before forward-out accepts them: SYNs to the internet carry an MSS
        // the path can take. The kernel only ever lowers an MSS.
        if (input.clamp_mss.mode != ClampMss::Mode::Off)
                rule("forward", RuleRole::ClampMss, {from_private, to_public, MatchTcpSyn{}},
                     RuleAction::ClampMss)
                        .mss =
                        input.clamp_mss.mode == ClampMss::Mode::Fixed ? input.clamp_mss.value : 0;
        for (const auto& cidr : input.source_cidrs)
                rule("forward", RuleRole::ForwardOut,
                     {from_private, to_public, MatchSourcePrefix{cidr}}, RuleAction::Accept);
        // Single ENI: the rest of public -> public is drop-hairpin's, below.
        if (!input.single_eni)
                rule("forward", RuleRole::DropOut, {from_private, to_public}, RuleAction::Drop);
        // Replies: the connection was let out and answered, so conntrack
        // has it established; the kernel offloads it then, both directions.
        if (input.flow_offload) {
                plan.flowtable = FlowtablePlan{"ft", {input.public_ifname}, 0};
                if (!input.single_eni)
                        plan.flowtable->devices.push_back(input.private_ifname);
                for (uint8_t protocol : {uint8_t{IPPROTO_TCP}, uint8_t{IPPROTO_UDP}})
                        rule("forward", RuleRole::FlowOffload,
                             {from_public, to_private, MatchProtocol{protocol}},
                             RuleAction::FlowOffload);
        }
        rule("forward", RuleRole::ReturnIn, {from_public, to_private, MatchEstablishedRelated{}},
             RuleAction::Accept);
        // Single ENI: public -> public that is neither from a source CIDR nor
        // a reply: the NAT relays for nobody else, nor lets the internet in.
        if (!input.single_eni)
                rule("forward", RuleRole::DropIn, {from_public, to_private}, RuleAction::Drop);
        rule("forward", RuleRole::DropHairpin, {from_public, to_public}, RuleAction::Drop);
        // A counted rule rather than the chain's policy: operators see in
        // status what it dropped, and the chain's policy stays accept either
        // way, which verification checks.
        if (input.forward_policy == ForwardPolicy::Drop)
                rule("forward", RuleRole::DropOther, {}, RuleAction::Drop);
        return plan;
}

std::string describe(const RulePlan& rule) {
        std::string out;
        for (const auto& m : rule.matches) {
                if (const auto* i = std::get_if<MatchInputInterface>(&m))
                        out += "iifname " + i->name + " ";
                else if (const auto* o = std::get_if<MatchOutputInterface>(&m))
                        out += "oifname " + o->name + " ";
                else if (std::holds_alternative<MatchEstablishedRelated>(m))
                        out += "ct state established,related ";
                else if (std::holds_alternative<MatchInvalid>(m))
                        out += "ct state invalid ";
                else if (const auto* s = std::get_if<MatchSourcePrefix>(&m))
                        out += "ip saddr " + s->prefix.str() + " ";
                else if (const auto* p = std::get_if<MatchProtocol>(&m))
                        out += std::string("meta l4proto ") +
                               (p->protocol == IPPROTO_TCP   ? "tcp"
                                : p->protocol == IPPROTO_UDP ? "udp"
                                                             : std::to_string(p->protocol)) +
                               " ";
                else if (std::holds_alternative<MatchTcpSyn>(m))
                        out += "tcp flags syn / syn,rst ";
                else if (const auto* slot = std::get_if<MatchPoolSlot>(&m))
                        out += (slot->mode == PoolMode::Persistent ? "jhash ip saddr mod "
                                                                   : "numgen random mod ") +
                               std::to_string(slot->modulus) +
                               " == " + std::to_string(slot->value) + " ";
        }
        out += "counter ";
        switch (rule.action) {
        case RuleAction::Accept:
                out += "accept";
                break;
        case RuleAction::Drop:
                out += "drop";
                break;
        case RuleAction::Masquerade:
        case RuleAction::Snat:
                out += rule.action == RuleAction::Snat ? "snat to " + rule.snat_to.str()
                                                       : std::string("masquerade");
                if (const auto& r = rule.masquerade.ports)
                        out += std::string(rule.action == RuleAction::Snat ? ":" : " to :") +
                               std::to_string(r->first) + "-" + std::to_string(r->last);
                if (rule.masquerade.allocation == PortAllocation::Random)
                        out += " random";
                else if (rule.masquerade.allocation == PortAllocation::FullyRandom)
                        out += " fully-random";
                break;
        case RuleAction::FlowOffload:
                out += "flow add @ft";
                break;
        case RuleAction::ClampMss:
                out += "tcp option maxseg size set " +
                       (rule.mss == 0 ? std::string("rt mtu") : std::to_string(rule.mss));
                break;
        }
        return out;
}

}  // namespace natd
