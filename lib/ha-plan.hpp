// The high-availability pair as planned ([HighAvailability], with the ENIs
// resolved and their ids from the metadata service): what the EC2 calls,
// keepalived's and conntrackd's files and the takeover (ha-role.hpp) need.
// Plain data, part of the NAT plan.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ipv4.hpp"
#include "mac-address.hpp"

namespace natd {

struct HaPlan {
        Ipv4Address peer;
        Ipv4Address floating_address;
        // The same with the prefix of the public ENI's subnet, as it goes on
        // the ENI (a secondary address: no new prefix route).
        Ipv4Cidr floating_cidr;
        std::vector<std::string> route_tables;  // rtb-...
        std::string public_eni_id;              // eni-...: AssignPrivateIpAddresses
        std::string private_eni_id;             // eni-...: ReplaceRoute's target
        MacAddress public_mac;                  // its IMDS local-ipv4s confirm the address
        std::string public_interface;           // kernel names
        int public_ifindex = 0;
        // VRRP and conntrackd's sync: the interface, this NAT's address on it.
        std::string sync_interface;
        Ipv4Address sync_address;
        unsigned priority = 100;
        unsigned virtual_router_id = 51;
        uint32_t advertisement_interval_msec = 1000;
        bool preempt = false;
        std::string ec2_endpoint;  // empty: the region's

        bool operator==(const HaPlan&) const = default;
};

}  // namespace natd
