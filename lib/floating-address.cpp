#include "floating-address.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>

#include "handles.hpp"

namespace natd {

namespace {

nlmsghdr* address_header(char* buf, uint16_t type, uint16_t flags, uint32_t seq, int ifindex,
                         const Ipv4Cidr& address) {
        auto* nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
        nlh->nlmsg_seq = seq;
        auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = static_cast<uint8_t>(address.prefix_len());
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = static_cast<uint32_t>(ifindex);
        mnl_attr_put_u32(nlh, IFA_LOCAL, address.address().network_order());
        mnl_attr_put_u32(nlh, IFA_ADDRESS, address.address().network_order());
        return nlh;
}

}  // namespace

Status add_floating_address(NetlinkSocket& rtnl, int ifindex, const Ipv4Cidr& address) {
        std::array<char, kRequestBufferSize> buf{};
        auto* nlh = address_header(buf.data(), RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
                                   rtnl.next_seq(), ifindex, address);
        Status s = rtnl.request(nlh, [](const nlmsghdr*) { return MNL_CB_OK; });
        if (!s.ok() && !s.failure().is(EEXIST))
                return s.failure().wrapped("Could not add the floating address " + address.str() +
                                           " to interface " + std::to_string(ifindex));
        return Ok{};
}

Status remove_floating_address(NetlinkSocket& rtnl, int ifindex, const Ipv4Cidr& address) {
        std::array<char, kRequestBufferSize> buf{};
        auto* nlh = address_header(buf.data(), RTM_DELADDR, 0, rtnl.next_seq(), ifindex, address);
        Status s = rtnl.request(nlh, [](const nlmsghdr*) { return MNL_CB_OK; });
        if (!s.ok() && !s.failure().is(EADDRNOTAVAIL) && !s.failure().is(ENOENT))
                return s.failure().wrapped("Could not remove the floating address " +
                                           address.str() + " from interface " +
                                           std::to_string(ifindex));
        return Ok{};
}

std::array<uint8_t, 42> gratuitous_arp_frame(const MacAddress& mac, const Ipv4Address& address) {
        std::array<uint8_t, 42> f{};
        const auto& m = mac.bytes();
        const uint32_t ip = address.network_order();
        uint8_t ip_bytes[4];
        std::memcpy(ip_bytes, &ip, 4);
        size_t i = 0;
        auto put = [&](std::initializer_list<uint8_t> bytes) {
                for (uint8_t b : bytes)
                        f[i++] = b;
        };
        auto put_mac = [&](const std::array<uint8_t, 6>& bytes) {
                for (uint8_t b : bytes)
                        f[i++] = b;
        };
        auto put_ip = [&] {
                for (uint8_t b : ip_bytes)
                        f[i++] = b;
        };
        put({0xff, 0xff, 0xff, 0xff, 0xff, 0xff});  // to everyone on the segment
        put_mac(m);
        put({0x08, 0x06});                    // ARP
        put({0x00, 0x01, 0x08, 0x00, 6, 4});  // Ethernet, IPv4, address lengths
        put({0x00, 0x01});                    // request (RFC 5227: the announcement)
        put_mac(m);
        put_ip();
        put({0, 0, 0, 0, 0, 0});
        put_ip();
        return f;
}

Status send_gratuitous_arp(int ifindex, const MacAddress& mac, const Ipv4Address& address) {
        UniqueFd fd(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
        if (fd.get() < 0)
                return errno_error("open a packet socket for gratuitous ARP", errno);
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_protocol = htons(ETH_P_ARP);
        to.sll_ifindex = ifindex;
        to.sll_halen = 6;
        std::memset(to.sll_addr, 0xff, 6);
        const auto frame = gratuitous_arp_frame(mac, address);
        if (sendto(fd.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to),
                   sizeof to) < 0)
                return errno_error("send gratuitous ARP for", address.str(), errno);
        return Ok{};
}

}  // namespace natd
