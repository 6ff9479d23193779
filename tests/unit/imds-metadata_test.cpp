// Reading the instance metadata service's answers: listings, an ENI's
// items, the transient device-number 0, and which ENI a device number names.
#include <cerrno>

#include <catch2/catch.hpp>

#include "imds-metadata.hpp"

using natd::EniMetadata;
using natd::Error;
using natd::InstanceMetadata;
using natd::Ipv4Address;
using natd::Ipv4Cidr;
using natd::MacAddress;
using natd::Result;

namespace {

MacAddress mac(const char* text) {
        return MacAddress::parse(text).value();
}

using Items = std::map<std::string, Result<std::string>>;

// The answers for a secondary ENI of a NAT instance.
Items secondary_items() {
        return {{"device-number", std::string("1")},
                {"network-card", std::string("0")},
                {"interface-id", std::string("eni-0f1e2d3c4b5a69788")},
                {"subnet-ipv4-cidr-block", std::string("10.0.1.0/24")},
                {"vpc-ipv4-cidr-blocks", std::string("10.0.0.0/16\n100.64.0.0/16")},
                {"local-ipv4s", std::string("10.0.1.10\n10.0.1.11")},
                {"public-ipv4s", Error{"IMDS GET ...: HTTP 404", ENOENT}}};
}

const MacAddress kPrimary = mac("0a:00:00:00:00:01");
const MacAddress kSecondary = mac("0a:00:00:00:00:02");

}  // namespace

TEST_CASE("IMDS listings: one entry per line, directories without their slash", "[imds]") {
        CHECK(natd::parse_imds_listing("0a:00:00:00:00:01/\n0a:00:00:00:00:02/\n") ==
              std::vector<std::string>{"0a:00:00:00:00:01", "0a:00:00:00:00:02"});
        CHECK(natd::parse_imds_listing("10.0.0.0/16\r\n\n  100.64.0.0/16") ==
              std::vector<std::string>{"10.0.0.0/16", "100.64.0.0/16"});
        CHECK(natd::parse_imds_listing("").empty());
}

TEST_CASE("An ENI from its items; a 404 is an absent item, other failures problems", "[imds]") {
        const EniMetadata eni = natd::eni_from_items(kSecondary, secondary_items(), kPrimary);
        CHECK(eni.mac == kSecondary);
        CHECK(eni.device_number == 1u);
        CHECK(eni.network_card == 0u);
        CHECK(eni.interface_id == "eni-0f1e2d3c4b5a69788");
        CHECK(eni.subnet == Ipv4Cidr::parse("10.0.1.0/24").value());
        CHECK(eni.vpc_cidrs == std::vector{Ipv4Cidr::parse("10.0.0.0/16").value(),
                                           Ipv4Cidr::parse("100.64.0.0/16").value()});
        CHECK(eni.local_ipv4s == std::vector{Ipv4Address::parse("10.0.1.10").value(),
                                             Ipv4Address::parse("10.0.1.11").value()});
        CHECK(eni.public_ipv4s.empty());
        CHECK(eni.problems.empty());

        auto items = secondary_items();
        items.insert_or_assign("subnet-ipv4-cidr-block", Error{"IMDS GET x: HTTP 500", EIO});
        items.insert_or_assign("device-number", std::string("one"));
        items.insert_or_assign("vpc-ipv4-cidr-blocks", std::string("10.0.0.1/16"));
        const EniMetadata bad = natd::eni_from_items(kSecondary, items, kPrimary);
        CHECK_FALSE(bad.device_number);
        CHECK_FALSE(bad.subnet);
        CHECK(bad.vpc_cidrs.empty());
        CHECK(bad.problems ==
              std::vector<std::string>{
                      "IMDS, ENI 0a:00:00:00:00:02: device-number is 'one', not a number",
                      "IMDS, ENI 0a:00:00:00:00:02: IMDS GET x: HTTP 500",
                      "IMDS, ENI 0a:00:00:00:00:02: vpc-ipv4-cidr-blocks: '10.0.0.1/16' is not "
                      "an IPv4 network"});
}

TEST_CASE("device-number 0 counts only for the primary MAC", "[imds]") {
        auto items = secondary_items();
        items.insert_or_assign("device-number", std::string("0"));
        const EniMetadata fresh = natd::eni_from_items(kSecondary, items, kPrimary);
        CHECK_FALSE(fresh.device_number);
        REQUIRE(fresh.problems.size() == 1);
        CHECK(fresh.problems[0].find("not known yet") != std::string::npos);

        const EniMetadata primary = natd::eni_from_items(kPrimary, items, kPrimary);
        CHECK(primary.device_number == 0u);
        CHECK(primary.problems.empty());
        // Without the primary MAC, a 0 cannot be told from the transient one.
        CHECK_FALSE(natd::eni_from_items(kPrimary, items, std::nullopt).device_number);
}

TEST_CASE("The ENI of a device number: card 0 only, and never a guess", "[imds]") {
        InstanceMetadata m;
        m.enis.push_back(natd::eni_from_items(kSecondary, secondary_items(), kPrimary));
        auto primary_items = secondary_items();
        primary_items.insert_or_assign("device-number", std::string("0"));
        m.enis.push_back(natd::eni_from_items(kPrimary, primary_items, kPrimary));
        REQUIRE(natd::eni_by_device_number(m, 1) != nullptr);
        CHECK(natd::eni_by_device_number(m, 1)->mac == kSecondary);
        CHECK(natd::eni_by_device_number(m, 0)->mac == kPrimary);
        CHECK(natd::eni_by_device_number(m, 2) == nullptr);

        m.enis[1].device_number = 1;  // two claim device 1
        CHECK(natd::eni_by_device_number(m, 1) == nullptr);
        m.enis[1].network_card = 1;  // the other card's device 1
        CHECK(natd::eni_by_device_number(m, 1)->mac == kSecondary);
}

TEST_CASE("Public addresses and the private ones they map to (ipv4-associations)", "[imds]") {
        auto items = secondary_items();
        items.insert_or_assign("public-ipv4s", std::string("198.51.100.7\n198.51.100.8\n"));
        items.insert_or_assign("ipv4-associations/198.51.100.7", std::string("10.0.1.11"));
        items.insert_or_assign("ipv4-associations/198.51.100.8", std::string("ten"));
        const EniMetadata eni = natd::eni_from_items(kSecondary, items, kPrimary);
        REQUIRE(eni.associations.size() == 1);
        CHECK(eni.associations[0].public_ip == Ipv4Address::parse("198.51.100.7").value());
        CHECK(eni.associations[0].private_ip == Ipv4Address::parse("10.0.1.11").value());
        CHECK(natd::public_ip_of(eni, Ipv4Address::parse("10.0.1.11").value()) ==
              Ipv4Address::parse("198.51.100.7").value());
        CHECK_FALSE(natd::public_ip_of(eni, Ipv4Address::parse("10.0.1.10").value()));
        CHECK(eni.problems ==
              std::vector<std::string>{"IMDS, ENI 0a:00:00:00:00:02: ipv4-associations/"
                                       "198.51.100.8: 'ten' is not an IPv4 address"});
}
