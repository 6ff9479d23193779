// The planner with [HighAvailability]: the pair's facts from IMDS, the SNAT
// pool fixed to the floating address whether this NAT holds it or not, and
// what it waits for.
#include <catch2/catch.hpp>

#include "config.hpp"
#include "metrics.hpp"
#include "plan.hpp"

using natd::Config;
using natd::EniMetadata;
using natd::HostFacts;
using natd::ImdsState;
using natd::Ipv4Address;
using natd::Ipv4Cidr;
using natd::Link;
using natd::MacAddress;
using natd::NatPlan;
using natd::Waiting;

namespace {

Ipv4Cidr cidr(const char* text) {
        return Ipv4Cidr::parse(text).value();
}

Ipv4Address ip(const char* text) {
        return Ipv4Address::parse(text).value();
}

MacAddress mac(int n) {
        return MacAddress::parse("0a:00:00:00:00:0" + std::to_string(n)).value();
}

Link make_link(int ifindex, const char* name, const char* altname, std::vector<Ipv4Cidr> ipv4) {
        Link l;
        l.ifindex = ifindex;
        l.name = name;
        l.altnames = {altname};
        l.mac = mac(ifindex);
        l.ipv4 = std::move(ipv4);
        l.up = true;
        return l;
}

std::vector<Link> links(bool holds_floating) {
        std::vector<Ipv4Cidr> pub{cidr("10.0.0.11/24")};
        if (holds_floating)
                pub.push_back(cidr("10.0.0.20/24"));
        return {make_link(2, "ens5", "device-number-0.0", pub),
                make_link(3, "ens6", "device-number-1.0", {cidr("10.0.1.11/24")})};
}

HostFacts facts(ImdsState state = ImdsState::Available) {
        HostFacts f;
        f.imds.state = state;
        if (state != ImdsState::Available)
                return f;
        f.imds.metadata.instance_id = "i-0123456789abcdef0";
        f.imds.metadata.primary_mac = mac(2);
        for (int i : {2, 3}) {
                EniMetadata e;
                e.mac = mac(i);
                e.device_number = i - 2;
                e.interface_id = i == 2 ? "eni-0000000000000a105" : "eni-0000000000000a106";
                e.subnet = cidr(i == 2 ? "10.0.0.0/24" : "10.0.1.0/24");
                e.vpc_cidrs = {cidr("10.0.0.0/16")};
                f.imds.metadata.enis.push_back(e);
        }
        // The pair's Elastic IP, and none for this NAT's own address.
        f.imds.metadata.enis[0].public_ipv4s = {ip("203.0.113.50")};
        f.imds.metadata.enis[0].associations = {{ip("203.0.113.50"), ip("10.0.0.20")}};
        return f;
}

Config pair() {
        Config c;
        c.subnets = {cidr("10.0.2.0/24")};
        c.ha_peer = ip("10.0.1.12");
        c.ha_floating_address = ip("10.0.0.20");
        c.ha_route_tables = {"rtb-0000000000000c001"};
        c.ha_priority = 150;
        return c;
}

}  // namespace

TEST_CASE("HA plan: ENI ids and the sync address, SNAT to the floating address", "[plan][ha]") {
        for (bool holds : {true, false}) {
                CAPTURE(holds);
                auto outcome = natd::make_plan(pair(), links(holds), facts());
                REQUIRE(std::holds_alternative<NatPlan>(outcome));
                const auto& plan = std::get<NatPlan>(outcome);
                REQUIRE(plan.ha);
                CHECK(plan.ha->public_eni_id == "eni-0000000000000a105");
                CHECK(plan.ha->private_eni_id == "eni-0000000000000a106");
                CHECK(plan.ha->public_mac == mac(2));
                CHECK(plan.ha->public_interface == "ens5");
                CHECK(plan.ha->sync_interface == "ens6");
                CHECK(plan.ha->sync_address == ip("10.0.1.11"));
                CHECK(plan.ha->peer == ip("10.0.1.12"));
                CHECK(plan.ha->priority == 150);
                CHECK(plan.ha->route_tables == std::vector<std::string>{"rtb-0000000000000c001"});
                // The same rules on the active and the standby: no replan
                // when the address moves, no "not an address of ens5".
                CHECK(natd::snat_address_count(plan.ruleset) == 1);
                CHECK(plan.address_problems.empty());
        }
        // Holding the address or not changes nothing the reconciler applies.
        CHECK(std::get<NatPlan>(natd::make_plan(pair(), links(true), facts())) ==
              std::get<NatPlan>(natd::make_plan(pair(), links(false), facts())));
        // Without Peer= there is no pair.
        Config single = pair();
        single.ha_peer.reset();
        single.ha_floating_address.reset();
        single.ha_route_tables.clear();
        CHECK_FALSE(std::get<NatPlan>(natd::make_plan(single, links(false), facts())).ha);
}

TEST_CASE("HA plan: waits for the ENI ids and a usable peer", "[plan][ha]") {
        for (auto state : {ImdsState::Pending, ImdsState::Unavailable}) {
                auto outcome = natd::make_plan(pair(), links(false), facts(state));
                REQUIRE(std::holds_alternative<Waiting>(outcome));
                CHECK(std::get<Waiting>(outcome).str().find(
                              "high availability: the ENI ids of ens5 and ens6 from IMDS") !=
                      std::string::npos);
        }
        Config far = pair();
        far.ha_peer = ip("10.9.0.12");
        auto outcome = natd::make_plan(far, links(false), facts());
        REQUIRE(std::holds_alternative<Waiting>(outcome));
        CHECK(std::get<Waiting>(outcome).str() ==
              "high availability: ens6 has no address on the subnet of Peer=10.9.0.12");
        Config self = pair();
        self.ha_peer = ip("10.0.1.11");
        outcome = natd::make_plan(self, links(false), facts());
        REQUIRE(std::holds_alternative<Waiting>(outcome));
        CHECK(std::get<Waiting>(outcome).str() ==
              "high availability: Peer=10.0.1.11 is ens6's own address");
}
