// check_data_path() against scripted route lookups: each way the kernel
// refuses or misroutes a NAT packet becomes one sentence naming the cause.
#include <cerrno>

#include <catch2/catch.hpp>
#include <linux/rtnetlink.h>

#include "data-path.hpp"

using natd::Ipv4Address;
using natd::Ipv4Cidr;
using natd::kInternetProbe;
using natd::Link;
using natd::NatPlan;
using natd::RouteAnswer;
using natd::RouteQuery;

namespace {

Ipv4Cidr cidr(const char* text) {
        return Ipv4Cidr::parse(text).value();
}
Ipv4Address ip(const char* text) {
        return Ipv4Address::parse(text).value();
}

constexpr int kPublic = 2;
constexpr int kPrivate = 3;
constexpr int kDocker = 4;

struct World {
        NatPlan plan;
        std::vector<Link> links;
        std::vector<RouteQuery> asked;
        // Answers as a working NAT instance unless a test changes them.
        RouteAnswer outbound{0, RTN_UNICAST, kPublic, ip("203.0.113.1")};
        RouteAnswer inbound{0, RTN_UNICAST, kPrivate, ip("10.0.1.1")};

        World() {
                plan.public_interface = {"device-number-0", kPublic, "ens5"};
                plan.private_interface = {"device-number-1", kPrivate, "ens6"};
                plan.private_subnet = cidr("10.0.1.0/24");
                plan.gateway = ip("10.0.1.1");
                plan.routes.push_back(
                        {cidr("10.0.2.0/24"), ip("10.0.1.1"), kPrivate, "ens6", true});
                links.push_back(link(kPublic, "ens5", "203.0.113.10/24"));
                links.push_back(link(kPrivate, "ens6", "10.0.1.10/24"));
                links.push_back(link(kDocker, "docker0", "172.17.0.1/16"));
        }
        static Link link(int ifindex, const char* name, const char* address) {
                Link l;
                l.ifindex = ifindex;
                l.name = name;
                l.up = true;
                l.operstate = "up";
                l.ipv4 = {cidr(address)};
                return l;
        }
        std::vector<std::string> check() {
                asked.clear();
                return natd::check_data_path(plan, links, [this](const RouteQuery& q) {
                        asked.push_back(q);
                        return q.destination == kInternetProbe ? outbound : inbound;
                });
        }
};

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
        for (const auto& p : problems)
                if (p.find(text) != std::string::npos)
                        return true;
        return false;
}

}  // namespace

TEST_CASE("a working NAT instance has no data-path problem, and both directions were asked") {
        World w;
        CHECK(w.check().empty());
        // Two subnets (the ENI's own and the routed one), two directions each.
        REQUIRE(w.asked.size() == 4);
        CHECK(w.asked[0] == RouteQuery{ip("10.0.1.254"), kInternetProbe, kPrivate});
        CHECK(w.asked[1] == RouteQuery{kInternetProbe, ip("10.0.1.254"), kPublic});
        CHECK(w.asked[2] == RouteQuery{ip("10.0.2.254"), kInternetProbe, kPrivate});
        CHECK(w.asked[3] == RouteQuery{kInternetProbe, ip("10.0.2.254"), kPublic});
}

TEST_CASE("probe sources avoid this host's own addresses") {
        World w;
        CHECK(natd::probe_host(cidr("10.0.9.0/24"), w.links) == ip("10.0.9.254"));
        w.links.push_back(World::link(9, "ens9", "10.0.9.254/24"));
        CHECK(natd::probe_host(cidr("10.0.9.0/24"), w.links) == ip("10.0.9.253"));
        CHECK(natd::probe_host(cidr("10.0.9.7/32"), w.links) == ip("10.0.9.7"));
}

TEST_CASE("no default route via the public ENI is named") {
        World w;
        w.outbound = {ENETUNREACH, 0, 0, std::nullopt};
        const auto problems = w.check();
        // One sentence for both subnets; replies still route.
        CHECK(problems == std::vector<std::string>{
                                  "internet-bound traffic from 10.0.1.0/24, 10.0.2.0/24 arriving "
                                  "on ens6 finds no route: no default route via ens5"});
}

TEST_CASE("forwarding refused on the input interface is named") {
        World w;
        w.outbound = {EHOSTUNREACH, 0, 0, std::nullopt};
        CHECK(mentions(w.check(), "forwarding is off on ens6 (net.ipv4.conf.ens6.forwarding)"));
        w.outbound = {0, RTN_UNICAST, kPublic, ip("203.0.113.1")};
        w.inbound = {EHOSTUNREACH, 0, 0, std::nullopt};
        CHECK(mentions(w.check(),
                       "return traffic to 10.0.1.0/24, 10.0.2.0/24 arriving on ens5 is refused: "
                       "forwarding is off on ens5"));
}

TEST_CASE("reverse-path filtering and martians are named") {
        World w;
        w.outbound = {EXDEV, 0, 0, std::nullopt};
        CHECK(mentions(w.check(), "reverse-path filter of ens6 (rp_filter)"));
        w.outbound = {EINVAL, 0, 0, std::nullopt};
        CHECK(mentions(w.check(), "martian"));
}

TEST_CASE("internet traffic leaving through the private ENI is the AL2023 loop hazard") {
        World w;
        // net-utils' metric-513 default route via the private ENI, once the
        // public ENI's default route is gone.
        w.outbound = {0, RTN_UNICAST, kPrivate, ip("10.0.1.1")};
        CHECK(mentions(w.check(), "would leave through ens6, the private ENI (via 10.0.1.1): it "
                                  "would loop back into the VPC"));
}

TEST_CASE("internet traffic or replies through another interface are named") {
        World w;
        w.outbound = {0, RTN_UNICAST, kDocker, std::nullopt};
        CHECK(mentions(w.check(), "would leave through docker0, not through the public ENI ens5"));
        w.outbound = {0, RTN_UNICAST, kPublic, ip("203.0.113.1")};
        w.inbound = {0, RTN_UNICAST, 42, std::nullopt};
        CHECK(mentions(w.check(), "would leave through interface 42, not through the private ENI "
                                  "ens6"));
}

TEST_CASE("the public ENI down, without carrier or without an address is one sentence") {
        World w;
        w.links[0].up = false;
        auto problems = w.check();
        CHECK(problems == std::vector<std::string>{"public interface ens5 is down"});
        CHECK(w.asked.empty());  // every lookup would fail for that one reason

        w.links[0].up = true;
        w.links[0].operstate = "lowerlayerdown";
        CHECK(mentions(w.check(), "has no carrier"));

        w.links[0].operstate = "up";
        w.links[0].ipv4.clear();
        CHECK(w.check() == std::vector<std::string>{
                                   "public interface ens5 has no IPv4 address: masquerade has no "
                                   "source address"});

        w.links.erase(w.links.begin());
        CHECK(w.check() == std::vector<std::string>{"public interface ens5 is gone"});
}

TEST_CASE("single ENI: both directions through the public ENI are the data path") {
        World w;
        w.plan.single_eni = true;
        w.plan.private_interface = {"none", kPublic, "ens5"};
        w.plan.routes.clear();
        w.plan.source_cidrs = {cidr("10.0.0.0/16")};
        w.inbound = {0, RTN_UNICAST, kPublic, ip("203.0.113.1")};
        CHECK(w.check().empty());
        REQUIRE(w.asked.size() == 2);  // the source CIDRs, not a private subnet
        CHECK(w.asked[0] == RouteQuery{ip("10.0.255.254"), kInternetProbe, kPublic});
        CHECK(w.asked[1] == RouteQuery{kInternetProbe, ip("10.0.255.254"), kPublic});
        // Replies that would leave elsewhere are still named.
        w.inbound = {0, RTN_UNICAST, kDocker, ip("172.17.0.2")};
        CHECK(mentions(w.check(), "return traffic to 10.0.0.0/16 would leave through docker0"));
}
