#include <array>
#include <cstring>
#include <netinet/in.h>

#include <catch2/catch.hpp>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "link-message.hpp"
#include "link-table.hpp"

namespace {

// Builds rtnetlink messages in memory, as the kernel sends them.
struct MessageBuffer {
        std::array<char, 4096> bytes{};

        nlmsghdr* link(uint16_t type, int ifindex, const char* name,
                       std::initializer_list<const char*> altnames, bool up = true) {
                auto* nlh = mnl_nlmsg_put_header(bytes.data());
                nlh->nlmsg_type = type;
                auto* ifi =
                        static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
                ifi->ifi_index = ifindex;
                ifi->ifi_flags = up ? IFF_UP : 0;
                mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
                const uint8_t mac[6] = {0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f};
                mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
                mnl_attr_put_u8(nlh, IFLA_OPERSTATE, IF_OPER_UP);
                auto* props = mnl_attr_nest_start(nlh, IFLA_PROP_LIST);
                for (const char* alt : altnames)
                        mnl_attr_put_strz(nlh, IFLA_ALT_IFNAME, alt);
                mnl_attr_nest_end(nlh, props);
                return nlh;
        }

        nlmsghdr* address(uint16_t type, int ifindex, const char* addr, uint8_t prefix,
                          uint8_t family = AF_INET) {
                auto* nlh = mnl_nlmsg_put_header(bytes.data());
                nlh->nlmsg_type = type;
                auto* ifa =
                        static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
                ifa->ifa_family = family;
                ifa->ifa_prefixlen = prefix;
                ifa->ifa_index = static_cast<uint32_t>(ifindex);
                const auto a = natd::Ipv4Address::parse(addr).value().network_order();
                mnl_attr_put_u32(nlh, IFA_ADDRESS, a);
                mnl_attr_put_u32(nlh, IFA_LOCAL, a);
                return nlh;
        }
};

}  // namespace

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
