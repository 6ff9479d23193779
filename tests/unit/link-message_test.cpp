#include <catch2/catch.hpp>

#include "link-message.hpp"
#include "rtnetlink-messages.hpp"

using natd::testing::MessageBuffer;

TEST_CASE("RTM_NEWLINK yields name, altnames longer than IFNAMSIZ, MAC and state", "[link]") {
        MessageBuffer m;
        const auto event = natd::parse_link_event(
                m.link(RTM_NEWLINK, 3, "ens6", {"device-number-1.0", "eni-0123456789abcdef0"}));
        REQUIRE(event);
        const auto& link = std::get<natd::LinkAdded>(*event).link;
        CHECK(link.ifindex == 3);
        CHECK(link.name == "ens6");
        CHECK(link.altnames ==
              std::vector<std::string>{"device-number-1.0", "eni-0123456789abcdef0"});
        REQUIRE(link.mac);
        CHECK(link.mac->str() == "0a:1b:2c:3d:4e:5f");
        CHECK(link.up);
        CHECK(link.operstate == "up");
}

TEST_CASE("RTM_DELLINK and IPv4 address messages are decoded; IPv6 ones ignored", "[link]") {
        MessageBuffer m;
        auto del = natd::parse_link_event(m.link(RTM_DELLINK, 7, "ens7", {}));
        REQUIRE(del);
        CHECK(std::get<natd::LinkRemoved>(*del).ifindex == 7);

        auto add = natd::parse_link_event(m.address(RTM_NEWADDR, 3, "10.0.1.10", 24));
        REQUIRE(add);
        CHECK(std::get<natd::AddressAdded>(*add).address.str() == "10.0.1.10/24");

        auto gone = natd::parse_link_event(m.address(RTM_DELADDR, 3, "10.0.1.10", 24));
        REQUIRE(gone);
        CHECK(std::get<natd::AddressRemoved>(*gone).ifindex == 3);

        CHECK_FALSE(natd::parse_link_event(m.address(RTM_NEWADDR, 3, "10.0.1.10", 64, AF_INET6)));
}
