// The planner with what the instance metadata service said (HostFacts::imds):
// device-number selectors without altnames, Subnets= and single-ENI
// SourceCIDRs= defaults, and the facts status shows.
#include <algorithm>

#include <catch2/catch.hpp>

#include "imds-watch.hpp"
#include "plan.hpp"

using natd::Config;
using natd::EniMetadata;
using natd::HostFacts;
using natd::ImdsFacts;
using natd::ImdsState;
using natd::Ipv4Address;
using natd::Ipv4Cidr;
using natd::Link;
using natd::MacAddress;
using natd::NatPlan;
using natd::PlanFact;
using natd::Selector;
using natd::Waiting;

namespace {

Ipv4Cidr cidr(const char* text) {
        return Ipv4Cidr::parse(text).value();
}

MacAddress mac(int n) {
        return MacAddress::parse("0a:00:00:00:00:0" + std::to_string(n)).value();
}

Link make_link(int ifindex, const char* name, std::vector<std::string> altnames,
               std::vector<Ipv4Cidr> ipv4) {
        Link l;
        l.ifindex = ifindex;
        l.name = name;
        l.altnames = std::move(altnames);
        l.mac = mac(ifindex);
        l.ipv4 = std::move(ipv4);
        l.up = true;
        return l;
}

// A Debian NAT instance: no amazon-ec2-net-utils, so no altnames.
std::vector<Link> bare_enis() {
        return {make_link(2, "ens5", {}, {cidr("203.0.113.10/24")}),
                make_link(3, "ens6", {}, {cidr("10.0.1.10/24")})};
}

EniMetadata eni(int ifindex, std::optional<unsigned> device_number, const char* subnet) {
        EniMetadata e;
        e.mac = mac(ifindex);
        e.device_number = device_number;
        e.interface_id = "eni-" + std::to_string(ifindex);
        e.subnet = cidr(subnet);
        e.vpc_cidrs = {cidr("10.0.0.0/16"), cidr("100.64.0.0/16")};
        return e;
}

HostFacts imds_facts(ImdsState state, std::optional<unsigned> private_device_number = 1) {
        HostFacts f;
        f.imds.state = state;
        if (state == ImdsState::Unavailable)
                f.imds.error = "IMDS PUT /latest/api/token: Connection timed out";
        if (state != ImdsState::Available)
                return f;
        f.imds.metadata.instance_id = "i-0123456789abcdef0";
        f.imds.metadata.primary_mac = mac(2);
        f.imds.metadata.enis = {eni(2, 0, "203.0.113.0/24"),
                                eni(3, private_device_number, "10.0.1.0/24")};
        f.imds.metadata.enis[0].public_ipv4s = {Ipv4Address::parse("198.51.100.7").value()};
        f.imds.metadata.enis[0].associations = {{Ipv4Address::parse("198.51.100.7").value(),
                                                 Ipv4Address::parse("203.0.113.10").value()}};
        return f;
}

const PlanFact* fact(const NatPlan& plan, const char* name) {
        auto it = std::find_if(plan.provenance.facts.begin(), plan.provenance.facts.end(),
                               [&](const PlanFact& f) { return f.fact == name; });
        return it == plan.provenance.facts.end() ? nullptr : &*it;
}

std::string waiting_text(const natd::PlanOutcome& outcome) {
        REQUIRE(std::holds_alternative<Waiting>(outcome));
        return std::get<Waiting>(outcome).str();
}

}  // namespace

TEST_CASE("No configuration, no altnames: IMDS finds both ENIs by MAC and the VPC's CIDRs",
          "[plan][imds]") {
        const auto outcome =
                natd::make_plan(Config{}, bare_enis(), imds_facts(ImdsState::Available));
        REQUIRE(std::holds_alternative<NatPlan>(outcome));
        const auto& plan = std::get<NatPlan>(outcome);
        CHECK(plan.public_interface.name == "ens5");
        CHECK(plan.provenance.public_source == "IMDS device-number 0: 0a:00:00:00:00:02 (eni-2)");
        CHECK(plan.private_interface.name == "ens6");
        CHECK(plan.provenance.private_source == "IMDS device-number 1: 0a:00:00:00:00:03 (eni-3)");
        // The VPC's CIDR blocks, via the private ENI's .1.
        REQUIRE(plan.routes.size() == 2);
        CHECK(plan.routes[0].destination == cidr("10.0.0.0/16"));
        CHECK(plan.routes[1].destination == cidr("100.64.0.0/16"));
        CHECK(plan.routes[0].gateway == Ipv4Address::parse("10.0.1.1").value());
        CHECK(plan.routes[0].ifname == "ens6");
        // Masqueraded: the VPC's CIDRs (they cover the ENI's own subnet).
        CHECK(plan.source_cidrs == std::vector{cidr("10.0.0.0/16"), cidr("100.64.0.0/16")});
        const auto* routes = fact(plan, "return routes");
        REQUIRE(routes != nullptr);
        CHECK(routes->value == "10.0.0.0/16 100.64.0.0/16");
        CHECK(routes->source == "IMDS vpc-ipv4-cidr-blocks of 0a:00:00:00:00:03 (eni-3)");
        const auto* public_ip = fact(plan, "public IPv4");
        REQUIRE(public_ip != nullptr);
        CHECK(public_ip->value == "198.51.100.7");
        CHECK(public_ip->source == "IMDS public-ipv4s of 0a:00:00:00:00:02 (eni-2)");
        // Masquerade leaves from the primary address: the Elastic IP on it.
        const auto* egress = fact(plan, "egress public IPv4");
        REQUIRE(egress != nullptr);
        CHECK(egress->value == "198.51.100.7");
        CHECK(egress->source ==
              "IMDS ipv4-associations of 0a:00:00:00:00:02 (eni-2): 203.0.113.10");
        CHECK(plan.provenance.discovery_notes.empty());
}

TEST_CASE("Configured Subnets= win over IMDS's VPC CIDRs, and say so", "[plan][imds]") {
        Config config;
        config.subnets = {cidr("10.0.2.0/24")};
        const auto outcome = natd::make_plan(config, bare_enis(), imds_facts(ImdsState::Available));
        REQUIRE(std::holds_alternative<NatPlan>(outcome));
        const auto& plan = std::get<NatPlan>(outcome);
        REQUIRE(plan.routes.size() == 1);
        CHECK(plan.routes[0].destination == cidr("10.0.2.0/24"));
        CHECK(fact(plan, "return routes")->source == "Subnets=");
}

TEST_CASE("While IMDS has not answered, what needs it waits; unavailable, natd says why",
          "[plan][imds]") {
        CHECK(waiting_text(
                      natd::make_plan(Config{}, bare_enis(), imds_facts(ImdsState::Pending))) ==
              "public interface (device-number-0): no interface has that altname; waiting for "
              "IMDS; private interface (device-number-1): no interface has that altname; "
              "waiting for IMDS");
        CHECK(waiting_text(
                      natd::make_plan(Config{}, bare_enis(), imds_facts(ImdsState::Unavailable)))
                      .find("private interface (device-number-1): no interface has that altname, "
                            "and IMDS is unavailable (IMDS PUT /latest/api/token: Connection "
                            "timed out)") != std::string::npos);
        CHECK(waiting_text(natd::make_plan(Config{}, bare_enis(), HostFacts{})) ==
              "public interface (device-number-0): no interface matches; private interface "
              "(device-number-1): no interface matches");

        // Altnames resolve the ENIs, but Subnets= is unset: the routes wait.
        auto links = bare_enis();
        links[0].altnames = {"device-number-0.0"};
        links[1].altnames = {"device-number-1.0"};
        CHECK(waiting_text(natd::make_plan(Config{}, links, imds_facts(ImdsState::Pending))) ==
              "[Routes] Subnets= is unset: waiting for IMDS's VPC CIDR blocks");
        // Without IMDS: no return routes, as before there was IMDS, and the
        // fact says why.
        const auto without = natd::make_plan(Config{}, links, imds_facts(ImdsState::Unavailable));
        REQUIRE(std::holds_alternative<NatPlan>(without));
        const auto& plan = std::get<NatPlan>(without);
        CHECK(plan.routes.empty());
        CHECK(plan.provenance.private_source == "altname device-number-1.0");
        CHECK(fact(plan, "return routes")->value == "none");
        CHECK(fact(plan, "return routes")->source ==
              "[Routes] Subnets= unset; IMDS unavailable (IMDS PUT /latest/api/token: Connection "
              "timed out)");
        const auto disabled = natd::make_plan(Config{}, links, HostFacts{});
        REQUIRE(std::holds_alternative<NatPlan>(disabled));
        CHECK(fact(std::get<NatPlan>(disabled), "return routes")->source ==
              "[Routes] Subnets= unset; IMDS=no");
}

TEST_CASE("A device-number 0 IMDS does not trust yet resolves nothing", "[plan][imds]") {
        const auto outcome = natd::make_plan(Config{}, bare_enis(),
                                             imds_facts(ImdsState::Available, std::nullopt));
        CHECK(waiting_text(outcome) ==
              "private interface (device-number-1): no interface has that altname, and IMDS "
              "lists no ENI with device-number 1 (yet)");
}

TEST_CASE("IMDS names an ENI no link has yet: natd waits for the link", "[plan][imds]") {
        auto links = bare_enis();
        links.pop_back();  // ens6 not attached yet
        CHECK(waiting_text(natd::make_plan(Config{}, links, imds_facts(ImdsState::Available))) ==
              "private interface (device-number-1): IMDS says device-number 1 is "
              "0a:00:00:00:00:03 (eni-3), but no interface has that MAC (yet)");
}

TEST_CASE("Altname and IMDS disagree: natd goes by the altname and notes it", "[plan][imds]") {
        auto links = bare_enis();
        links.push_back(make_link(4, "ens7", {"device-number-1.0"}, {cidr("10.0.4.10/24")}));
        Config config;
        config.subnets = {cidr("10.0.2.0/24")};
        const auto outcome = natd::make_plan(config, links, imds_facts(ImdsState::Available));
        REQUIRE(std::holds_alternative<NatPlan>(outcome));
        const auto& plan = std::get<NatPlan>(outcome);
        CHECK(plan.private_interface.name == "ens7");
        CHECK(plan.provenance.private_source == "altname device-number-1.0");
        CHECK(plan.provenance.discovery_notes ==
              std::vector<std::string>{
                      "private interface (device-number-1): the altname is on ens7 "
                      "(0a:00:00:00:00:04), IMDS says device-number 1 is 0a:00:00:00:00:03 "
                      "(eni-3); natd goes by the altname"});
}

TEST_CASE("Single ENI: SourceCIDRs= defaults to the VPC's CIDR blocks from IMDS", "[plan][imds]") {
        Config config;
        config.private_selector.reset();
        auto links = bare_enis();
        links.pop_back();
        const auto outcome = natd::make_plan(config, links, imds_facts(ImdsState::Available));
        REQUIRE(std::holds_alternative<NatPlan>(outcome));
        const auto& plan = std::get<NatPlan>(outcome);
        CHECK(plan.single_eni);
        CHECK(plan.source_cidrs == std::vector{cidr("10.0.0.0/16"), cidr("100.64.0.0/16")});
        CHECK(fact(plan, "source CIDRs")->source ==
              "IMDS vpc-ipv4-cidr-blocks of 0a:00:00:00:00:02 (eni-2)");
        CHECK(fact(plan, "return routes") == nullptr);

        links[0].altnames = {"device-number-0"};
        const auto text =
                waiting_text(natd::make_plan(config, links, imds_facts(ImdsState::Unavailable)));
        CHECK(text.starts_with("Private=none needs [NAT] SourceCIDRs= ([NAT] SourceCIDRs= unset; "
                               "IMDS unavailable ("));
}

TEST_CASE("Selector::device_number reads device-number-N and device-number-N.C", "[selector]") {
        auto number = [](const char* text) {
                return Selector::parse(text).value().device_number();
        };
        REQUIRE(number("device-number-1"));
        CHECK(number("device-number-1")->device == 1);
        CHECK_FALSE(number("device-number-1")->network_card);
        REQUIRE(number("device-number-12.3"));
        CHECK(number("device-number-12.3")->device == 12);
        CHECK(number("device-number-12.3")->network_card == 3u);
        for (const char* no :
             {"ens6", "device-number-", "device-number-x", "device-number-1.", "device-number-1.a",
              "device-number-99999999999", "0a:00:00:00:00:03"})
                CHECK_FALSE(number(no));
}

TEST_CASE("When natd asks IMDS again", "[imds]") {
        ImdsFacts facts;
        facts.state = ImdsState::Unavailable;
        CHECK(natd::imds_retry_delay_usec(facts, 0) == 60'000'000u);
        CHECK(natd::imds_retry_delay_usec(facts, 9) == 60'000'000u);
        facts = imds_facts(ImdsState::Available).imds;
        CHECK_FALSE(natd::imds_retry_delay_usec(facts, 0));  // all known: on demand only
        facts.metadata.enis[1].device_number.reset();        // a fresh ENI's 0
        CHECK(natd::imds_retry_delay_usec(facts, 0) == 1'000'000u);
        CHECK(natd::imds_retry_delay_usec(facts, 1) == 2'000'000u);
        CHECK(natd::imds_retry_delay_usec(facts, 2) == 4'000'000u);
        CHECK(natd::imds_retry_delay_usec(facts, 3) == 8'000'000u);
        CHECK(natd::imds_retry_delay_usec(facts, 4) == 10'000'000u);
        CHECK(natd::imds_retry_delay_usec(facts, 40) == 10'000'000u);

        // A link IMDS does not list (yet): asked again a few times, then left.
        facts = imds_facts(ImdsState::Available).imds;
        CHECK(natd::imds_retry_delay_usec(facts, 0, true, 0) == 1'000'000u);
        CHECK(natd::imds_retry_delay_usec(facts, 5, true, 3) == 8'000'000u);
        CHECK(natd::imds_retry_delay_usec(facts, 5, true, natd::kImdsUnlistedRounds - 1) ==
              10'000'000u);
        CHECK_FALSE(natd::imds_retry_delay_usec(facts, 5, true, natd::kImdsUnlistedRounds));

        auto links = bare_enis();
        CHECK_FALSE(natd::imds_misses_a_link(facts, links));
        links.push_back(make_link(1, "lo", {}, {cidr("127.0.0.1/8")}));
        links.back().mac = MacAddress{};  // loopback's all-zero MAC is no ENI
        CHECK_FALSE(natd::imds_misses_a_link(facts, links));
        links.push_back(make_link(4, "ens7", {}, {}));  // hot-attached
        CHECK(natd::imds_misses_a_link(facts, links));
        CHECK_FALSE(natd::imds_misses_a_link(ImdsFacts{}, links));
}

TEST_CASE("A pool address without an Elastic IP is named in the facts", "[plan][imds]") {
        Config config;
        config.nat_addresses = {Ipv4Address::parse("203.0.113.10").value(),
                                Ipv4Address::parse("203.0.113.11").value()};
        auto links = bare_enis();
        links[0].ipv4.push_back(cidr("203.0.113.11/24"));
        const auto outcome = natd::make_plan(config, links, imds_facts(ImdsState::Available));
        REQUIRE(std::holds_alternative<NatPlan>(outcome));
        std::vector<std::string> egress;
        for (const auto& f : std::get<NatPlan>(outcome).provenance.facts)
                if (f.fact == "egress public IPv4")
                        egress.push_back(f.value + " | " + f.source);
        CHECK(egress ==
              std::vector<std::string>{
                      "198.51.100.7 | IMDS ipv4-associations of 0a:00:00:00:00:02 (eni-2): "
                      "203.0.113.10",
                      "none | IMDS associates no public IPv4 with 203.0.113.11 of "
                      "0a:00:00:00:00:02 (eni-2): its traffic cannot reach the internet"});
        // Not ready: the internet gateway drops what leaves from it.
        CHECK(std::get<NatPlan>(outcome).address_problems ==
              std::vector<std::string>{
                      "IMDS associates no public IPv4 with 203.0.113.11 of 0a:00:00:00:00:02 "
                      "(eni-2): its traffic cannot reach the internet (associate an Elastic IP "
                      "with it)"});
        // Unless IMDS did not say: a public address whose association it did
        // not answer for might be that one's.
        auto partial = imds_facts(ImdsState::Available);
        partial.imds.metadata.enis[0].public_ipv4s.push_back(
                Ipv4Address::parse("198.51.100.8").value());
        const auto unsure = natd::make_plan(config, links, partial);
        REQUIRE(std::holds_alternative<NatPlan>(unsure));
        CHECK(std::get<NatPlan>(unsure).address_problems.empty());
}

TEST_CASE("IMDS=yes: an unset Subnets= waits for IMDS rather than going without routes",
          "[plan][imds]") {
        Config config;
        config.imds = natd::ImdsMode::Yes;
        auto links = bare_enis();
        links[0].altnames = {"device-number-0.0"};
        links[1].altnames = {"device-number-1.0"};
        CHECK(waiting_text(natd::make_plan(config, links, imds_facts(ImdsState::Unavailable))) ==
              "[Routes] Subnets= is unset: waiting for IMDS's VPC CIDR blocks (IMDS PUT "
              "/latest/api/token: Connection timed out)");
        config.subnets = {cidr("10.0.2.0/24")};  // nothing needs IMDS any more
        CHECK(std::holds_alternative<NatPlan>(
                natd::make_plan(config, links, imds_facts(ImdsState::Unavailable))));
}

TEST_CASE("Where facts came from is no reason to reconfigure", "[plan][imds]") {
        auto links = bare_enis();
        links[0].altnames = {"device-number-0.0"};
        links[1].altnames = {"device-number-1.0"};
        auto facts = imds_facts(ImdsState::Unavailable);
        const auto first = natd::make_plan(Config{}, links, facts);
        facts.imds.error = "IMDS PUT /latest/api/token: Connection timed out after 1004 ms";
        const auto second = natd::make_plan(Config{}, links, facts);
        REQUIRE(std::holds_alternative<NatPlan>(first));
        REQUIRE(std::holds_alternative<NatPlan>(second));
        // The sources differ, the plans do not: the reconciler keeps the applied one.
        CHECK_FALSE(fact(std::get<NatPlan>(first), "return routes")->source ==
                    fact(std::get<NatPlan>(second), "return routes")->source);
        CHECK(std::get<NatPlan>(first) == std::get<NatPlan>(second));
        // What the plan does still counts.
        auto more = links;
        more[1].ipv4 = {cidr("10.0.5.10/24")};
        CHECK_FALSE(std::get<NatPlan>(natd::make_plan(Config{}, more, facts)) ==
                    std::get<NatPlan>(second));
}
