// The nftables table natd wants, as plain data: what nft-ruleset.cpp turns
// into libnftnl objects and what verification compares the kernel against.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace natd {

inline constexpr const char* kTableName = "natd";

enum class ChainType { Filter, Nat };
enum class Hook { Prerouting, Input, Forward, Output, Postrouting };

struct ChainPlan {
        std::string name;
        ChainType type = ChainType::Filter;
        Hook hook = Hook::Forward;
        int32_t priority = 0;  // NF_IP_PRI_FILTER, NF_IP_PRI_NAT_SRC, ...

        bool operator==(const ChainPlan&) const = default;
};

// What a rule matches. A closed vocabulary: each alternative has exactly
// one encoding in nft-ruleset.cpp.
struct MatchInputInterface {
        std::string name;
        bool operator==(const MatchInputInterface&) const = default;
};
struct MatchOutputInterface {
        std::string name;
        bool operator==(const MatchOutputInterface&) const = default;
};
struct MatchEstablishedRelated {
        bool operator==(const MatchEstablishedRelated&) const = default;
};
using RuleMatch = std::variant<MatchInputInterface, MatchOutputInterface, MatchEstablishedRelated>;

enum class RuleAction { Accept, Drop, Masquerade };

// What a rule is for: names its counter in status and logs.
enum class RuleRole { Masquerade, ForwardOut, ReturnIn, DropIn };
const char* rule_role_name(RuleRole role);  // "masquerade", "forward-out", ...

struct RulePlan {
        std::string chain;
        RuleRole role = RuleRole::ForwardOut;
        std::vector<RuleMatch> matches;
        RuleAction action = RuleAction::Accept;
        // Every rule counts: operators read the counters in status.

        bool operator==(const RulePlan&) const = default;
};

struct RulesetPlan {
        std::string table = kTableName;
        std::vector<ChainPlan> chains;
        std::vector<RulePlan> rules;  // in order within each chain

        bool operator==(const RulesetPlan&) const = default;
};

// The NAT between a private and a public interface (kernel names):
// masquerade private->public; forward private->public; forward
// public->private only when established or related; drop the rest of
// public->private.
RulesetPlan make_nat_ruleset(const std::string& public_ifname, const std::string& private_ifname);

// "iifname ens6 oifname ens5 counter masquerade", for logs and status.
std::string describe(const RulePlan& rule);

}  // namespace natd
