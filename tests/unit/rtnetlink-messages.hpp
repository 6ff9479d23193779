// rtnetlink messages built in memory, as the kernel sends them, for the
// tests of what natd parses and keeps of them.
#pragma once

#include <array>
#include <initializer_list>
#include <netinet/in.h>

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "ipv4.hpp"

namespace natd::testing {

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

}  // namespace natd::testing
