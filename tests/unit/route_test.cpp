// parse_route_message: what read_routes() keeps of each RTM_NEWROUTE of its
// dump.
#include <array>
#include <cstdint>
#include <netinet/in.h>

#include <catch2/catch.hpp>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "route.hpp"

namespace {

struct RouteMessage {
        std::array<char, 512> bytes{};
        nlmsghdr* nlh = nullptr;

        explicit RouteMessage(uint8_t dst_len, uint8_t protocol = natd::kRouteProtocol) {
                nlh = mnl_nlmsg_put_header(bytes.data());
                nlh->nlmsg_type = RTM_NEWROUTE;
                auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
                rtm->rtm_family = AF_INET;
                rtm->rtm_dst_len = dst_len;
                rtm->rtm_table = RT_TABLE_MAIN;
                rtm->rtm_protocol = protocol;
                rtm->rtm_type = RTN_UNICAST;
                rtm->rtm_flags = RTNH_F_ONLINK;
        }
        void u32(uint16_t type, uint32_t value) { mnl_attr_put_u32(nlh, type, value); }
        void address(uint16_t type, const char* text) {
                u32(type, natd::Ipv4Address::parse(text).value().network_order());
        }
};

}  // namespace

TEST_CASE("A route of the main table is read whole", "[route]") {
        RouteMessage m(24);
        m.u32(RTA_TABLE, RT_TABLE_MAIN);
        m.address(RTA_DST, "10.0.2.0");
        m.address(RTA_GATEWAY, "10.0.1.1");
        m.u32(RTA_OIF, 3);
        m.u32(RTA_PRIORITY, 50);
        const auto r = natd::parse_route_message(m.nlh);
        REQUIRE(r);
        CHECK(r->destination.str() == "10.0.2.0/24");
        REQUIRE(r->gateway);
        CHECK(r->gateway->str() == "10.0.1.1");
        CHECK(r->ifindex == 3);
        CHECK(r->onlink);
        CHECK(r->protocol == natd::kRouteProtocol);
        CHECK(r->priority == 50);
}

TEST_CASE("Routes of other tables and truncated messages are not natd's to read", "[route]") {
        RouteMessage other(24);
        other.u32(RTA_TABLE, 100);
        CHECK_FALSE(natd::parse_route_message(other.nlh));

        RouteMessage truncated(24);
        truncated.nlh->nlmsg_len = sizeof(nlmsghdr) + 4;  // shorter than its rtmsg
        CHECK_FALSE(natd::parse_route_message(truncated.nlh));
}

// Found by reading the fuzz target's stack: an attribute whose payload is
// shorter than the u32 natd reads from it was read anyway, taking the next
// attribute's header as the address (fuzz/regressions/route-message/).
TEST_CASE("A u32 attribute shorter than 4 bytes is ignored, not read past", "[route]") {
        RouteMessage m(24);
        mnl_attr_put(m.nlh, RTA_GATEWAY, 0, nullptr);
        m.u32(RTA_OIF, 3);
        mnl_attr_put(m.nlh, RTA_PRIORITY, 2, "\x01\x02");
        const auto r = natd::parse_route_message(m.nlh);
        REQUIRE(r);
        CHECK_FALSE(r->gateway);
        CHECK(r->ifindex == 3);
        CHECK(r->priority == 0);
}
