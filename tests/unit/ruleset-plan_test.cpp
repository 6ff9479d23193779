#include <catch2/catch.hpp>

#include "ruleset-plan.hpp"

using natd::RuleAction;
using natd::RuleRole;

TEST_CASE("The NAT ruleset masquerades and forwards one way only", "[ruleset]") {
        const auto plan = natd::make_nat_ruleset("ens5", "ens6");
        CHECK(plan.table == "natd");
        REQUIRE(plan.chains.size() == 2);
        CHECK(plan.chains[0].name == "postrouting");
        CHECK(plan.chains[0].type == natd::ChainType::Nat);
        CHECK(plan.chains[0].hook == natd::Hook::Postrouting);
        CHECK(plan.chains[0].priority == 100);  // srcnat
        CHECK(plan.chains[1].name == "forward");
        CHECK(plan.chains[1].type == natd::ChainType::Filter);
        CHECK(plan.chains[1].hook == natd::Hook::Forward);
        CHECK(plan.chains[1].priority == 0);  // filter

        REQUIRE(plan.rules.size() == 4);
        std::vector<std::string> described;
        for (const auto& r : plan.rules)
                described.push_back(r.chain + ": " + natd::describe(r));
        CHECK(described == std::vector<std::string>{
                                   "postrouting: iifname ens6 oifname ens5 counter masquerade",
                                   "forward: iifname ens6 oifname ens5 counter accept",
                                   "forward: iifname ens5 oifname ens6 ct state "
                                   "established,related counter accept",
                                   "forward: iifname ens5 oifname ens6 counter drop",
                           });
        CHECK(plan.rules[0].role == RuleRole::Masquerade);
        CHECK(plan.rules[3].role == RuleRole::DropIn);
        CHECK(plan.rules[3].action == RuleAction::Drop);
}

TEST_CASE("Rule roles have stable names", "[ruleset]") {
        CHECK(std::string(natd::rule_role_name(RuleRole::Masquerade)) == "masquerade");
        CHECK(std::string(natd::rule_role_name(RuleRole::ForwardOut)) == "forward-out");
        CHECK(std::string(natd::rule_role_name(RuleRole::ReturnIn)) == "return-in");
        CHECK(std::string(natd::rule_role_name(RuleRole::DropIn)) == "drop-in");
}
