#include <catch2/catch.hpp>

#include "plan.hpp"

using natd::Config;
using natd::Ipv4Address;
using natd::Ipv4Cidr;
using natd::Link;
using natd::MacAddress;
using natd::NatPlan;
using natd::Selector;
using natd::Waiting;

namespace {

Ipv4Cidr cidr(const char* text) {
        return Ipv4Cidr::parse(text).value();
}

Link make_link(int ifindex, const char* name, std::vector<std::string> altnames,
               std::vector<Ipv4Cidr> ipv4 = {}) {
        Link l;
        l.ifindex = ifindex;
        l.name = name;
        l.altnames = std::move(altnames);
        l.mac = MacAddress::parse("0a:00:00:00:00:0" + std::to_string(ifindex)).value();
        l.ipv4 = std::move(ipv4);
        l.up = true;
        return l;
}

Config config_with_subnets(std::initializer_list<const char*> subnets) {
        Config c;
        for (const char* s : subnets)
                c.subnets.push_back(cidr(s));
        return c;
}

// The NAT instance of the integration tests: ens5 public, ens6 private.
std::vector<Link> two_enis(const char* private_altname = "device-number-1.0") {
        return {make_link(1, "lo", {}, {cidr("127.0.0.1/8")}),
                make_link(2, "ens5", {"device-number-0.0", "eni-0123456789abcdef0"},
                          {cidr("203.0.113.10/24")}),
                make_link(3, "ens6", {private_altname}, {cidr("10.0.1.10/24")})};
}

}  // namespace

TEST_CASE("A plan for two resolved ENIs routes every other subnet via the private .1", "[plan]") {
        const auto config = config_with_subnets({"10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"});
        const auto outcome = natd::make_plan(config, two_enis());
        REQUIRE(std::holds_alternative<NatPlan>(outcome));
        const auto& plan = std::get<NatPlan>(outcome);

        CHECK(plan.public_interface.name == "ens5");
        CHECK(plan.public_interface.ifindex == 2);
        CHECK(plan.private_interface.name == "ens6");
        CHECK(plan.private_subnet == cidr("10.0.1.0/24"));
        CHECK(plan.gateway == Ipv4Address::parse("10.0.1.1").value());
        CHECK(plan.forwarding);
        REQUIRE(plan.routes.size() == 2);  // the private ENI's own subnet is left out
        CHECK(plan.routes[0].destination == cidr("10.0.2.0/24"));
        CHECK(plan.routes[1].destination == cidr("10.0.3.0/24"));
        for (const auto& r : plan.routes) {
                CHECK(r.gateway == plan.gateway);
                CHECK(r.ifindex == 3);
                CHECK(r.ifname == "ens6");
                CHECK(r.onlink);
        }
        CHECK(natd::summarize(plan) == "NAT ens6 -> ens5, 2 return routes via 10.0.1.1");
}

TEST_CASE("Subnets within an ENI's own subnet get no return route, and say why", "[plan]") {
        const auto plan = std::get<NatPlan>(natd::make_plan(
                config_with_subnets({"203.0.113.0/24", "10.0.1.64/26", "10.0.2.0/24"}),
                two_enis()));
        REQUIRE(plan.routes.size() == 1);
        CHECK(plan.routes[0].destination == cidr("10.0.2.0/24"));
        CHECK(plan.route_problems ==
              std::vector<std::string>{
                      "Subnets=203.0.113.0/24 is the public ENI ens5's own subnet "
                      "203.0.113.0/24: not routing it back into the VPC",
                      "Subnets=10.0.1.64/26 is inside the private ENI ens6's own subnet "
                      "10.0.1.0/24: reachable there directly, no route added"});

        const auto inside = std::get<NatPlan>(
                natd::make_plan(config_with_subnets({"203.0.113.128/25"}), two_enis()));
        CHECK(inside.routes.empty());
        REQUIRE(inside.route_problems.size() == 1);
        CHECK(inside.route_problems[0].find("is inside the public ENI ens5's own subnet") !=
              std::string::npos);

        // A wider destination (the VPC's CIDR) is fine: the connected routes
        // stay more specific.
        const auto vpc = std::get<NatPlan>(
                natd::make_plan(config_with_subnets({"10.0.0.0/16"}), two_enis()));
        REQUIRE(vpc.routes.size() == 1);
        CHECK(vpc.routes[0].destination == cidr("10.0.0.0/16"));
        CHECK(vpc.route_problems.empty());
}

TEST_CASE("The legacy device-number-1 altname resolves the same way", "[plan]") {
        const auto outcome = natd::make_plan(Config{}, two_enis("device-number-1"));
        REQUIRE(std::holds_alternative<NatPlan>(outcome));
        CHECK(std::get<NatPlan>(outcome).private_interface.name == "ens6");
}

TEST_CASE("A configured Gateway overrides the subnet's first host", "[plan]") {
        auto config = config_with_subnets({"10.0.2.0/24"});
        config.gateway = Ipv4Address::parse("10.0.1.254").value();
        const auto plan = std::get<NatPlan>(natd::make_plan(config, two_enis()));
        REQUIRE(plan.routes.size() == 1);
        CHECK(plan.routes[0].gateway.str() == "10.0.1.254");
}

TEST_CASE("A MAC selector picks the private ENI", "[plan]") {
        Config config;
        config.private_selector = Selector::parse("0A:00:00:00:00:03").value();
        const auto outcome = natd::make_plan(config, two_enis("nothing-useful"));
        REQUIRE(std::holds_alternative<NatPlan>(outcome));
        CHECK(std::get<NatPlan>(outcome).private_interface.name == "ens6");
}

TEST_CASE("Planning waits, and says for what", "[plan]") {
        SECTION("the private ENI is not attached") {
                auto links = two_enis();
                links.pop_back();
                const auto w = std::get<Waiting>(natd::make_plan(Config{}, links));
                REQUIRE(w.reasons.size() == 1);
                CHECK(w.reasons[0] == "private interface (device-number-1): no interface matches");
        }
        SECTION("the private ENI has no IPv4 address yet") {
                auto links = two_enis();
                links.back().ipv4.clear();
                const auto w = std::get<Waiting>(natd::make_plan(Config{}, links));
                REQUIRE(w.reasons.size() == 1);
                CHECK(w.reasons[0] ==
                      "private interface ens6 (device-number-1): no IPv4 address yet");
        }
        SECTION("the private ENI is down (being renamed)") {
                auto links = two_enis();
                links.back().up = false;
                const auto w = std::get<Waiting>(natd::make_plan(Config{}, links));
                REQUIRE(w.reasons.size() == 1);
                CHECK(w.reasons[0] == "private interface ens6 (device-number-1): link is down");
        }
        SECTION("neither ENI carries its altname yet") {
                const std::vector<Link> links{make_link(2, "ens5", {}), make_link(3, "ens6", {})};
                const auto w = std::get<Waiting>(natd::make_plan(Config{}, links));
                CHECK(w.reasons.size() == 2);
                CHECK(w.str() == "public interface (device-number-0): no interface matches; "
                                 "private interface (device-number-1): no interface matches");
        }
        SECTION("device-number-1 is ambiguous on a multi-card instance") {
                auto links = two_enis();
                links.push_back(make_link(4, "ens7", {"device-number-1.1"}, {cidr("10.0.9.9/24")}));
                const auto w = std::get<Waiting>(natd::make_plan(Config{}, links));
                REQUIRE(w.reasons.size() == 1);
                CHECK(w.reasons[0] == "private interface (device-number-1): matches several "
                                      "interfaces (ens6, ens7); use a more specific selector");
        }
        SECTION("both selectors pick the same interface") {
                Config config;
                config.public_selector = Selector::parse("ens6").value();
                const auto w = std::get<Waiting>(natd::make_plan(config, two_enis()));
                REQUIRE(w.reasons.size() == 1);
                CHECK(w.reasons[0] == "public (ens6) and private (device-number-1) select the "
                                      "same interface ens6");
        }
}

TEST_CASE("The private ENI's primary address decides its subnet", "[plan]") {
        auto links = two_enis();
        links.back().ipv4 = {cidr("10.0.4.20/22"), cidr("10.0.9.9/24")};
        const auto config = config_with_subnets({"10.0.4.0/22", "10.0.9.0/24"});
        const auto plan = std::get<NatPlan>(natd::make_plan(config, links));
        CHECK(plan.private_subnet == cidr("10.0.4.0/22"));
        CHECK(plan.gateway.str() == "10.0.4.1");
        REQUIRE(plan.routes.size() == 1);
        CHECK(plan.routes[0].destination == cidr("10.0.9.0/24"));
}

TEST_CASE("A renamed ENI yields a different plan", "[plan]") {
        auto links = two_enis();
        const auto before = std::get<NatPlan>(natd::make_plan(Config{}, links));
        links.back().name = "ens7";
        const auto after = std::get<NatPlan>(natd::make_plan(Config{}, links));
        CHECK_FALSE(before == after);
        // No Subnets=: the sources default to the ENI's own subnet.
        CHECK(after.ruleset == natd::make_nat_ruleset({"ens5",
                                                       "ens7",
                                                       {cidr("10.0.1.0/24")},
                                                       natd::ForwardPolicy::Drop,
                                                       natd::PortAllocation::FullyRandom,
                                                       std::nullopt,
                                                       natd::ClampMss{},
                                                       false,
                                                       {},
                                                       natd::PoolMode::Persistent}));
}

TEST_CASE("Addresses=: only the public ENI's own go into the pool, the others are reported",
          "[plan]") {
        auto links = two_enis();
        Config config;
        config.nat_addresses = {natd::Ipv4Address::parse("203.0.113.10").value(),
                                natd::Ipv4Address::parse("203.0.113.99").value()};
        auto snat_targets = [](const NatPlan& plan) {
                std::vector<std::string> out;
                for (const auto& r : plan.ruleset.rules)
                        if (r.action == natd::RuleAction::Snat)
                                out.push_back(r.snat_to.str());
                return out;
        };
        auto plan = std::get<NatPlan>(natd::make_plan(config, links));
        REQUIRE(plan.address_problems.size() == 1);
        CHECK(plan.address_problems[0] ==
              "Addresses=203.0.113.99 is not an address of ens5: natd leaves it out of the pool "
              "until it is");
        CHECK(snat_targets(plan) == std::vector<std::string>{"203.0.113.10"});
        // Assigned later: in the pool, no problem left.
        for (auto& l : links)
                if (l.name == "ens5")
                        l.ipv4.push_back(natd::Ipv4Cidr::parse("203.0.113.99/24").value());
        plan = std::get<NatPlan>(natd::make_plan(config, links));
        CHECK(plan.address_problems.empty());
        CHECK(snat_targets(plan) == std::vector<std::string>{"203.0.113.10", "203.0.113.99"});
}

TEST_CASE("HostFacts::conntrack_module: the hash size becomes a module parameter", "[plan]") {
        natd::HostFacts facts;
        facts.memory_bytes = uint64_t{1} << 32;
        auto plan = std::get<NatPlan>(natd::make_plan(Config{}, two_enis(), facts));
        CHECK(plan.conntrack.module_hashsize == 0);  // built in
        facts.conntrack_module = true;
        plan = std::get<NatPlan>(natd::make_plan(Config{}, two_enis(), facts));
        CHECK(plan.conntrack.module_hashsize == 524288);
        CHECK(plan.conntrack.module_hashsize == plan.conntrack.buckets);
}

TEST_CASE("FlowOffload=: a flowtable where the kernel has them, said where not", "[plan]") {
        auto plan_with = [](natd::FlowOffload mode, const std::string& no_flowtables) {
                Config config;
                config.flow_offload = mode;
                natd::HostFacts facts;
                facts.no_flowtables = no_flowtables;
                return natd::make_plan(config, two_enis(), facts);
        };
        auto offload_rules = [](const NatPlan& plan) {
                size_t n = 0;
                for (const auto& r : plan.ruleset.rules)
                        n += r.action == natd::RuleAction::FlowOffload ? 1 : 0;
                return n;
        };
        const std::string missing = "No such file or directory";
        SECTION("auto, with flowtables") {
                const auto plan = std::get<NatPlan>(plan_with(natd::FlowOffload::Auto, ""));
                REQUIRE(plan.ruleset.flowtable);
                CHECK(plan.ruleset.flowtable->devices == std::vector<std::string>{"ens5", "ens6"});
                CHECK(offload_rules(plan) == 2);  // TCP and UDP replies
                CHECK(plan.flow_offload == "on");
        }
        SECTION("auto, without: the forward path, and said so") {
                const auto plan = std::get<NatPlan>(plan_with(natd::FlowOffload::Auto, missing));
                CHECK_FALSE(plan.ruleset.flowtable);
                CHECK(offload_rules(plan) == 0);
                CHECK(plan.flow_offload.starts_with("unavailable: this kernel has no nftables "
                                                    "flowtables (No such file or directory)"));
        }
        SECTION("yes, without: nothing is applied, and why is said") {
                const auto outcome = plan_with(natd::FlowOffload::Yes, missing);
                REQUIRE(std::holds_alternative<natd::Waiting>(outcome));
                CHECK(std::get<natd::Waiting>(outcome).str() ==
                      "FlowOffload=yes, but this kernel has no nftables flowtables (No such file "
                      "or directory): set FlowOffload=auto or no");
        }
        SECTION("no") {
                const auto plan = std::get<NatPlan>(plan_with(natd::FlowOffload::No, ""));
                CHECK_FALSE(plan.ruleset.flowtable);
                CHECK(plan.flow_offload == "off (FlowOffload=no)");
        }
}

TEST_CASE("SourceCIDRs defaults to Subnets plus the private ENI's subnet", "[plan]") {
        auto sources = [](const Config& config) {
                const auto plan = std::get<NatPlan>(natd::make_plan(config, two_enis()));
                std::vector<std::string> out;
                for (const auto& c : plan.source_cidrs)
                        out.push_back(c.str());
                return out;
        };
        using Strings = std::vector<std::string>;
        SECTION("the ENI's subnet appended") {
                CHECK(sources(config_with_subnets({"10.0.2.0/24", "10.0.3.0/24"})) ==
                      Strings{"10.0.2.0/24", "10.0.3.0/24", "10.0.1.0/24"});
        }
        SECTION("the ENI's subnet listed in Subnets: once") {
                CHECK(sources(config_with_subnets({"10.0.2.0/24", "10.0.1.0/24"})) ==
                      Strings{"10.0.2.0/24", "10.0.1.0/24"});
        }
        SECTION("a network around the ENI's subnet covers it") {
                CHECK(sources(config_with_subnets({"10.0.0.0/16"})) == Strings{"10.0.0.0/16"});
        }
        SECTION("no Subnets: the ENI's subnet alone") {
                CHECK(sources(Config{}) == Strings{"10.0.1.0/24"});
        }
        SECTION("SourceCIDRs= replaces the default") {
                auto config = config_with_subnets({"10.0.2.0/24"});
                config.source_cidrs = {cidr("10.0.2.0/25")};
                CHECK(sources(config) == Strings{"10.0.2.0/25"});
        }
        SECTION("the ruleset matches the resolved sources and the policy") {
                auto config = config_with_subnets({"10.0.2.0/24"});
                config.forward_policy = natd::ForwardPolicy::Accept;
                const auto plan = std::get<NatPlan>(natd::make_plan(config, two_enis()));
                CHECK(plan.ruleset ==
                      natd::make_nat_ruleset({"ens5",
                                              "ens6",
                                              {cidr("10.0.2.0/24"), cidr("10.0.1.0/24")},
                                              natd::ForwardPolicy::Accept,
                                              natd::PortAllocation::FullyRandom,
                                              std::nullopt,
                                              natd::ClampMss{},
                                              false,
                                              {},
                                              natd::PoolMode::Persistent}));
        }
        SECTION("the defaults: fully random ports, MSS clamped to the route's MTU") {
                const auto plan = std::get<NatPlan>(natd::make_plan(Config{}, two_enis()));
                size_t clamps = 0;
                for (const auto& r : plan.ruleset.rules) {
                        if (r.action == natd::RuleAction::Masquerade)
                                CHECK(r.masquerade ==
                                      natd::MasqueradeParams{natd::PortAllocation::FullyRandom,
                                                             std::nullopt});
                        if (r.role == natd::RuleRole::ClampMss) {
                                ++clamps;
                                CHECK(r.mss == 0);
                        }
                }
                CHECK(clamps == 1);
        }
        SECTION("PortRange: TCP and UDP masqueraded into it, the rest without") {
                auto config = Config{};
                config.port_range = natd::PortRange{20000, 20099};
                config.port_allocation = natd::PortAllocation::Sequential;
                config.clamp_mss = {natd::ClampMss::Mode::Off, 0};
                const auto plan = std::get<NatPlan>(natd::make_plan(config, two_enis()));
                std::vector<std::string> masq;
                for (const auto& r : plan.ruleset.rules) {
                        CHECK(r.role != natd::RuleRole::ClampMss);
                        if (r.action == natd::RuleAction::Masquerade)
                                masq.push_back(natd::describe(r));
                }
                CHECK(masq == std::vector<std::string>{
                                      "iifname ens6 oifname ens5 ip saddr 10.0.1.0/24 meta l4proto "
                                      "tcp counter masquerade to :20000-20099",
                                      "iifname ens6 oifname ens5 ip saddr 10.0.1.0/24 meta l4proto "
                                      "udp counter masquerade to :20000-20099",
                                      "iifname ens6 oifname ens5 ip saddr 10.0.1.0/24 counter "
                                      "masquerade"});
        }
}

TEST_CASE("Single ENI: the public ENI relays for SourceCIDRs, no routes, no redirects", "[plan]") {
        Config config;
        config.private_selector.reset();
        config.source_cidrs = {cidr("10.0.0.0/16")};
        // Only the public ENI: a second one is no private ENI here.
        auto links = two_enis();
        links.pop_back();
        const auto outcome = natd::make_plan(config, links);
        REQUIRE(std::holds_alternative<NatPlan>(outcome));
        const auto& plan = std::get<NatPlan>(outcome);
        CHECK(plan.single_eni);
        CHECK(plan.no_redirects);
        CHECK(plan.private_interface == natd::ResolvedInterface{"none", 2, "ens5"});
        CHECK(plan.source_cidrs == config.source_cidrs);
        CHECK(plan.routes.empty());
        CHECK(plan.route_problems.empty());
        REQUIRE(natd::nat_interfaces(plan).size() == 1);
        CHECK(natd::nat_interfaces(plan)[0]->name == "ens5");
        CHECK(natd::summarize(plan) == "NAT on ens5 (single ENI)");
        for (const auto& r : plan.ruleset.rules)
                for (const auto& m : r.matches)
                        if (const auto* i = std::get_if<natd::MatchInputInterface>(&m))
                                CHECK(i->name == "ens5");

        SECTION("waits for the public ENI only") {
                const auto w = std::get<Waiting>(natd::make_plan(config, {links[0]}));
                CHECK(w.reasons ==
                      std::vector<std::string>{
                              "public interface (device-number-0): no interface matches"});
        }
        SECTION("two-ENI plans turn nothing off") {
                const auto two = std::get<NatPlan>(natd::make_plan(Config{}, two_enis()));
                CHECK_FALSE(two.single_eni);
                CHECK_FALSE(two.no_redirects);
                CHECK(natd::nat_interfaces(two).size() == 2);
        }
}
