#include "ruleset-plan.hpp"

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
                        RuleAction action) {
                plan.rules.push_back({chain, role, std::move(matches), action});
        };
        // Source CIDRs are matched one rule per prefix (payload, bitwise,
        // cmp), not with a set: a VPC lists a handful of subnets; at 4 the
        // measured difference to a set is within the noise, and per-prefix
        // rules need no set objects to create and verify. At 64 a set is
        // twice as cheap: doc/ruleset.txt has the figures.
        //
        // The postrouting hook sees the input interface of forwarded packets,
        // so only traffic that came in on the private ENI is masqueraded.
        for (const auto& cidr : input.source_cidrs)
                rule("postrouting", RuleRole::Masquerade,
                     {from_private, to_public, MatchSourcePrefix{cidr}}, RuleAction::Masquerade);
        // Invalid packets first: conntrack cannot NAT them, and accepted they
        // would leave with their private source address.
        rule("forward", RuleRole::DropInvalid, {from_private, MatchInvalid{}}, RuleAction::Drop);
        rule("forward", RuleRole::DropInvalid, {from_public, MatchInvalid{}}, RuleAction::Drop);
        for (const auto& cidr : input.source_cidrs)
                rule("forward", RuleRole::ForwardOut,
                     {from_private, to_public, MatchSourcePrefix{cidr}}, RuleAction::Accept);
        rule("forward", RuleRole::DropOut, {from_private, to_public}, RuleAction::Drop);
        rule("forward", RuleRole::ReturnIn, {from_public, to_private, MatchEstablishedRelated{}},
             RuleAction::Accept);
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
                out += "masquerade";
                break;
        }
        return out;
}

}  // namespace natd
