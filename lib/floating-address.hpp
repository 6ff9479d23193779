// The pair's floating address on this NAT's public ENI: added and removed
// over rtnetlink, announced with gratuitous ARP (a bridge, or a router
// that cached the old holder's MAC, learns the new one at once instead of
// after its ARP entry times out).
#pragma once

#include <array>
#include <cstdint>

#include "ipv4.hpp"
#include "mac-address.hpp"
#include "netlink-socket.hpp"
#include "result.hpp"

namespace natd {

// `address` with the prefix of the ENI's subnet (a secondary address, no
// new prefix route). Already there is success.
Status add_floating_address(NetlinkSocket& rtnl, int ifindex, const Ipv4Cidr& address);
// Not there is success.
Status remove_floating_address(NetlinkSocket& rtnl, int ifindex, const Ipv4Cidr& address);

// Pure: the Ethernet frame of a gratuitous ARP request for `address` from
// `mac` (broadcast; sender and target protocol address both `address`).
std::array<uint8_t, 42> gratuitous_arp_frame(const MacAddress& mac, const Ipv4Address& address);

// Sends gratuitous_arp_frame() out of `ifindex` (AF_PACKET).
Status send_gratuitous_arp(int ifindex, const MacAddress& mac, const Ipv4Address& address);

}  // namespace natd
