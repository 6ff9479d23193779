#include <catch2/catch.hpp>

#include "link-message.hpp"
#include "link-table.hpp"
#include "rtnetlink-messages.hpp"

using natd::testing::MessageBuffer;

TEST_CASE("The link table follows links, altnames added later and addresses", "[link]") {
        MessageBuffer m;
        natd::LinkTable table;
        CHECK(table.apply(*natd::parse_link_event(m.link(RTM_NEWLINK, 3, "ens6", {}))));
        CHECK(table.apply(*natd::parse_link_event(m.address(RTM_NEWADDR, 3, "10.0.1.10", 24))));
        // The same announcement again changes nothing.
        CHECK_FALSE(
                table.apply(*natd::parse_link_event(m.address(RTM_NEWADDR, 3, "10.0.1.10", 24))));
        // amazon-ec2-net-utils adds the altname after DHCP: the address stays.
        CHECK(table.apply(
                *natd::parse_link_event(m.link(RTM_NEWLINK, 3, "ens6", {"device-number-1.0"}))));
        REQUIRE(table.links().size() == 1);
        CHECK(table.links()[0].altnames == std::vector<std::string>{"device-number-1.0"});
        CHECK(table.links()[0].ipv4.size() == 1);

        // A rename keeps ifindex and addresses.
        CHECK(table.apply(
                *natd::parse_link_event(m.link(RTM_NEWLINK, 3, "ens7", {"device-number-1.0"}))));
        CHECK(table.find(3)->name == "ens7");
        CHECK(table.find(3)->ipv4.size() == 1);

        CHECK(table.apply(*natd::parse_link_event(m.address(RTM_DELADDR, 3, "10.0.1.10", 24))));
        CHECK(table.find(3)->ipv4.empty());
        CHECK(table.apply(*natd::parse_link_event(m.link(RTM_DELLINK, 3, "ens7", {}))));
        CHECK(table.links().empty());
        CHECK(table.find(3) == nullptr);
}

TEST_CASE("An address announced before its link is kept but not listed", "[link]") {
        MessageBuffer m;
        natd::LinkTable table;
        table.apply(*natd::parse_link_event(m.address(RTM_NEWADDR, 9, "10.0.1.10", 24)));
        CHECK(table.links().empty());
        table.apply(*natd::parse_link_event(m.link(RTM_NEWLINK, 9, "ens9", {})));
        REQUIRE(table.links().size() == 1);
        CHECK(table.links()[0].ipv4.size() == 1);
}

TEST_CASE("Link tables compare by content, so a re-read that changed nothing is no change",
          "[link]") {
        MessageBuffer m;
        natd::LinkTable before;
        natd::LinkTable after;
        before.apply(
                *natd::parse_link_event(m.link(RTM_NEWLINK, 3, "ens6", {"device-number-1.0"})));
        after.apply(*natd::parse_link_event(m.link(RTM_NEWLINK, 3, "ens6", {"device-number-1.0"})));
        CHECK(before == after);
        after.apply(*natd::parse_link_event(m.address(RTM_NEWADDR, 3, "10.0.1.10", 24)));
        CHECK_FALSE(before == after);
}
