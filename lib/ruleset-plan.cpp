#include "ruleset-plan.hpp"

#include <linux/netfilter_ipv4.h>

namespace natd {

const char* rule_role_name(RuleRole role) {
        switch (role) {
        case RuleRole::Masquerade:
                return "masquerade";
        case RuleRole::ForwardOut:
                return "forward-out";
        case RuleRole::ReturnIn:
                return "return-in";
        case RuleRole::DropIn:
                return "drop-in";
        }
        return "unknown";
}

RulesetPlan make_nat_ruleset(const std::string& public_ifname, const std::string& private_ifname) {
        RulesetPlan plan;
        plan.chains = {
                {"postrouting", ChainType::Nat, Hook::Postrouting, NF_IP_PRI_NAT_SRC},
                {"forward", ChainType::Filter, Hook::Forward, NF_IP_PRI_FILTER},
        };
        const MatchInputInterface from_private{private_ifname};
        const MatchInputInterface from_public{public_ifname};
        const MatchOutputInterface to_public{public_ifname};
        const MatchOutputInterface to_private{private_ifname};
        // The postrouting hook sees the input interface of forwarded packets,
        // so only traffic that came in on the private ENI is masqueraded.
        plan.rules = {
                {"postrouting",
                 RuleRole::Masquerade,
                 {from_private, to_public},
                 RuleAction::Masquerade},
                {"forward", RuleRole::ForwardOut, {from_private, to_public}, RuleAction::Accept},
                {"forward",
                 RuleRole::ReturnIn,
                 {from_public, to_private, MatchEstablishedRelated{}},
                 RuleAction::Accept},
                {"forward", RuleRole::DropIn, {from_public, to_private}, RuleAction::Drop},
        };
        return plan;
}

std::string describe(const RulePlan& rule) {
        std::string out;
        for (const auto& m : rule.matches) {
                if (const auto* i = std::get_if<MatchInputInterface>(&m))
                        out += "iifname " + i->name + " ";
                else if (const auto* o = std::get_if<MatchOutputInterface>(&m))
                        out += "oifname " + o->name + " ";
                else
                        out += "ct state established,related ";
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
