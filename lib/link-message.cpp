#include "link-message.hpp"

#include <cstring>
#include <netinet/in.h>
#include <string>

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "netlink-attributes.hpp"

namespace natd {

namespace {

std::string attr_string(const nlattr* a) {
        // Kernel strings are NUL terminated, but never trust the length.
        const auto* s = static_cast<const char*>(mnl_attr_get_payload(a));
        return {s, strnlen(s, mnl_attr_get_payload_len(a))};
}

std::string operstate_name(uint8_t state) {
        switch (state) {
        case IF_OPER_NOTPRESENT:
                return "notpresent";
        case IF_OPER_DOWN:
                return "down";
        case IF_OPER_LOWERLAYERDOWN:
                return "lowerlayerdown";
        case IF_OPER_TESTING:
                return "testing";
        case IF_OPER_DORMANT:
                return "dormant";
        case IF_OPER_UP:
                return "up";
        default:
                return "unknown";
        }
}

std::optional<LinkEvent> parse_link(const nlmsghdr* nlh) {
        const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
        if (nlh->nlmsg_type == RTM_DELLINK)
                return LinkRemoved{ifi->ifi_index};

        Link link;
        link.ifindex = ifi->ifi_index;
        link.up = (ifi->ifi_flags & IFF_UP) != 0;
        link.operstate = "unknown";
        for_each_attribute(nlh, sizeof(*ifi), [&](const nlattr* attr) {
                switch (mnl_attr_get_type(attr)) {
                case IFLA_IFNAME:
                        link.name = attr_string(attr);
                        break;
                case IFLA_ADDRESS: {
                        auto mac = MacAddress::from_bytes(
                                {static_cast<const uint8_t*>(mnl_attr_get_payload(attr)),
                                 mnl_attr_get_payload_len(attr)});
                        if (mac.ok())
                                link.mac = mac.value();
                        break;
                }
                case IFLA_OPERSTATE:
                        if (mnl_attr_get_payload_len(attr) >= 1)
                                link.operstate = operstate_name(mnl_attr_get_u8(attr));
                        break;
                case IFLA_PROP_LIST:
                        for_each_nested(attr, [&](const nlattr* prop) {
                                if (mnl_attr_get_type(prop) == IFLA_ALT_IFNAME)
                                        link.altnames.push_back(attr_string(prop));
                        });
                        break;
                default:
                        break;
                }
        });
        return LinkAdded{std::move(link)};
}

std::optional<LinkEvent> parse_address(const nlmsghdr* nlh) {
        const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
        if (ifa->ifa_family != AF_INET || ifa->ifa_prefixlen > 32)
                return std::nullopt;
        std::optional<Ipv4Address> local;
        std::optional<Ipv4Address> address;
        for_each_attribute(nlh, sizeof(*ifa), [&](const nlattr* attr) {
                const auto type = mnl_attr_get_type(attr);
                if ((type != IFA_LOCAL && type != IFA_ADDRESS) ||
                    mnl_attr_get_payload_len(attr) != 4)
                        return;
                const auto a = Ipv4Address::from_network(mnl_attr_get_u32(attr));
                (type == IFA_LOCAL ? local : address) = a;
        });
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer
        // on point-to-point links and equal to it otherwise.
        const auto own = local ? local : address;
        if (!own)
                return std::nullopt;
        const Ipv4Cidr cidr(*own, ifa->ifa_prefixlen);
        const int ifindex = static_cast<int>(ifa->ifa_index);
        if (nlh->nlmsg_type == RTM_DELADDR)
                return AddressRemoved{ifindex, cidr};
        return AddressAdded{ifindex, cidr};
}

}  // namespace

std::optional<LinkEvent> parse_link_event(const nlmsghdr* nlh) {
        switch (nlh->nlmsg_type) {
        case RTM_NEWLINK:
        case RTM_DELLINK:
                if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(ifinfomsg)))
                        return std::nullopt;
                return parse_link(nlh);
        case RTM_NEWADDR:
        case RTM_DELADDR:
                if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(ifaddrmsg)))
                        return std::nullopt;
                return parse_address(nlh);
        default:
                return std::nullopt;
        }
}

}  // namespace natd
