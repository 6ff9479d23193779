#include <catch2/catch.hpp>

#include "ruleset-plan.hpp"

using natd::ForwardPolicy;
using natd::RuleAction;
using natd::RuleRole;

namespace {

natd::NatRulesetInput input(ForwardPolicy policy) {
        natd::NatRulesetInput in;
        in.public_ifname = "ens5";
        in.private_ifname = "ens6";
        in.source_cidrs = {natd::Ipv4Cidr::parse("10.0.2.0/24").value(),
                           natd::Ipv4Cidr::parse("10.0.1.0/24").value()};
        in.forward_policy = policy;
        return in;
}

// One line per rule: "CHAIN: ROLE: RULE".
std::string described(const natd::RulesetPlan& plan) {
        std::string out;
        for (const auto& r : plan.rules)
                out += r.chain + ": " + natd::rule_role_name(r.role) + ": " + natd::describe(r) +
                       "\n";
        return out;
}

// Both policies share these rules: what concerns natd's two ENIs.
const std::string kNatRules =
        R"(postrouting: masquerade: iifname ens6 oifname ens5 ip saddr 10.0.2.0/24 counter masquerade
postrouting: masquerade: iifname ens6 oifname ens5 ip saddr 10.0.1.0/24 counter masquerade
forward: drop-invalid: iifname ens6 ct state invalid counter drop
forward: drop-invalid: iifname ens5 ct state invalid counter drop
forward: forward-out: iifname ens6 oifname ens5 ip saddr 10.0.2.0/24 counter accept
forward: forward-out: iifname ens6 oifname ens5 ip saddr 10.0.1.0/24 counter accept
forward: drop-out: iifname ens6 oifname ens5 counter drop
forward: return-in: iifname ens5 oifname ens6 ct state established,related counter accept
forward: drop-in: iifname ens5 oifname ens6 counter drop
forward: drop-hairpin: iifname ens5 oifname ens5 counter drop
)";

}  // namespace

TEST_CASE("The NAT ruleset has a NAT chain and a forward chain", "[ruleset]") {
        const auto plan = natd::make_nat_ruleset(input(ForwardPolicy::Drop));
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
}

TEST_CASE("ForwardPolicy=drop drops and counts all other forwarded traffic", "[ruleset]") {
        const auto plan = natd::make_nat_ruleset(input(ForwardPolicy::Drop));
        CHECK(described(plan) == kNatRules + "forward: drop-other: counter drop\n");
        CHECK(plan.rules.back().matches.empty());
        CHECK(plan.rules.back().action == RuleAction::Drop);
}

TEST_CASE("ForwardPolicy=accept drops only what concerns natd's ENIs", "[ruleset]") {
        const auto plan = natd::make_nat_ruleset(input(ForwardPolicy::Accept));
        CHECK(described(plan) == kNatRules);
}

TEST_CASE("Only the source CIDRs are masqueraded and forwarded out", "[ruleset]") {
        auto one = input(ForwardPolicy::Drop);
        one.source_cidrs = {natd::Ipv4Cidr::parse("10.0.0.0/16").value()};
        const auto plan = natd::make_nat_ruleset(one);
        int masquerades = 0;
        int forwards = 0;
        for (const auto& r : plan.rules) {
                if (r.role != RuleRole::Masquerade && r.role != RuleRole::ForwardOut)
                        continue;
                (r.role == RuleRole::Masquerade ? masquerades : forwards) += 1;
                CHECK(std::holds_alternative<natd::MatchSourcePrefix>(r.matches.back()));
                CHECK(natd::describe(r).find("ip saddr 10.0.0.0/16 ") != std::string::npos);
        }
        CHECK(masquerades == 1);
        CHECK(forwards == 1);
}

TEST_CASE("ClampMSS= adds one rule before forward-out; PortAllocation= flags every masquerade",
          "[ruleset]") {
        auto in = input(ForwardPolicy::Drop);
        in.clamp_mss = {natd::ClampMss::Mode::Fixed, 1360};
        in.port_allocation = natd::PortAllocation::Random;
        const std::string text = described(natd::make_nat_ruleset(in));
        const auto clamp = text.find(
                "forward: clamp-mss: iifname ens6 oifname ens5 tcp flags syn / syn,rst counter tcp "
                "option maxseg size set 1360\n");
        REQUIRE(clamp != std::string::npos);
        CHECK(clamp > text.rfind("drop-invalid"));
        CHECK(clamp < text.find("forward-out"));
        CHECK(text.find("counter masquerade random\n") != std::string::npos);
        CHECK(text.find("counter masquerade\n") == std::string::npos);
        in.clamp_mss = {};
        CHECK(described(natd::make_nat_ruleset(in)).find("tcp option maxseg size set rt mtu") !=
              std::string::npos);
}

TEST_CASE("An SNAT pool: one rule per address and source, each taking its share", "[ruleset]") {
        auto in = input(ForwardPolicy::Drop);
        in.source_cidrs.resize(1);
        in.snat_addresses = {natd::Ipv4Address::parse("203.0.113.10").value(),
                             natd::Ipv4Address::parse("203.0.113.11").value(),
                             natd::Ipv4Address::parse("203.0.113.12").value()};
        auto nat = [](const natd::RulesetPlan& plan) {
                std::string out;
                for (const auto& r : plan.rules)
                        if (r.chain == "postrouting")
                                out += std::string(natd::rule_role_name(r.role)) + ": " +
                                       natd::describe(r) + "\n";
                return out;
        };
        const std::string prefix = "snat: iifname ens6 oifname ens5 ip saddr 10.0.2.0/24 ";
        CHECK(nat(natd::make_nat_ruleset(in)) ==
              prefix + "jhash ip saddr mod 3 == 0 counter snat to 203.0.113.10\n" + prefix +
                      "jhash ip saddr mod 3 == 1 counter snat to 203.0.113.11\n" + prefix +
                      "counter snat to 203.0.113.12\n");
        in.pool_mode = natd::PoolMode::Random;
        in.port_allocation = natd::PortAllocation::FullyRandom;
        CHECK(nat(natd::make_nat_ruleset(in)) ==
              prefix + "numgen random mod 3 == 0 counter snat to 203.0.113.10 fully-random\n" +
                      prefix +
                      "numgen random mod 2 == 0 counter snat to 203.0.113.11 fully-random\n" +
                      prefix + "counter snat to 203.0.113.12 fully-random\n");
}

TEST_CASE("Rule roles have stable names", "[ruleset]") {
        CHECK(std::string(natd::rule_role_name(RuleRole::Masquerade)) == "masquerade");
        CHECK(std::string(natd::rule_role_name(RuleRole::DropInvalid)) == "drop-invalid");
        CHECK(std::string(natd::rule_role_name(RuleRole::ForwardOut)) == "forward-out");
        CHECK(std::string(natd::rule_role_name(RuleRole::DropOut)) == "drop-out");
        CHECK(std::string(natd::rule_role_name(RuleRole::ReturnIn)) == "return-in");
        CHECK(std::string(natd::rule_role_name(RuleRole::DropIn)) == "drop-in");
        CHECK(std::string(natd::rule_role_name(RuleRole::DropHairpin)) == "drop-hairpin");
        CHECK(std::string(natd::rule_role_name(RuleRole::DropOther)) == "drop-other");
}

TEST_CASE("Single ENI: hairpin from the source CIDRs out, replies back, nothing else relayed",
          "[ruleset]") {
        auto in = input(ForwardPolicy::Drop);
        in.private_ifname = "ens5";
        in.single_eni = true;
        in.clamp_mss = {natd::ClampMss::Mode::Auto, 0};
        CHECK(described(natd::make_nat_ruleset(in)) ==
              R"(postrouting: masquerade: iifname ens5 oifname ens5 ip saddr 10.0.2.0/24 counter masquerade
postrouting: masquerade: iifname ens5 oifname ens5 ip saddr 10.0.1.0/24 counter masquerade
forward: drop-invalid: iifname ens5 ct state invalid counter drop
forward: clamp-mss: iifname ens5 oifname ens5 tcp flags syn / syn,rst counter tcp option maxseg size set rt mtu
forward: forward-out: iifname ens5 oifname ens5 ip saddr 10.0.2.0/24 counter accept
forward: forward-out: iifname ens5 oifname ens5 ip saddr 10.0.1.0/24 counter accept
forward: return-in: iifname ens5 oifname ens5 ct state established,related counter accept
forward: drop-hairpin: iifname ens5 oifname ens5 counter drop
forward: drop-other: counter drop
)");
        in.flow_offload = true;
        const auto offloaded = natd::make_nat_ruleset(in);
        REQUIRE(offloaded.flowtable);
        CHECK(offloaded.flowtable->devices == std::vector<std::string>{"ens5"});
}
