// The data path of a NAT plan, checked the way a packet would find it: one
// route lookup per direction and source subnet, asked of the kernel with the
// input interface set, so forwarding, reverse-path filtering and martian
// checks apply as they do to a real forwarded packet. Pure: the lookups are
// injected (route-lookup.cpp asks the kernel; the unit tests answer).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ipv4.hpp"
#include "link.hpp"
#include "plan.hpp"

namespace natd {

// RTM_GETROUTE as `ip route get DST from SRC iif IF` asks it.
struct RouteQuery {
        Ipv4Address source;
        Ipv4Address destination;
        int input_ifindex = 0;

        bool operator==(const RouteQuery&) const = default;
};

struct RouteAnswer {
        int error = 0;     // errno of a refused lookup; 0: resolved
        uint8_t type = 0;  // RTN_UNICAST, RTN_LOCAL, ...
        int output_ifindex = 0;
        std::optional<Ipv4Address> gateway;

        bool operator==(const RouteAnswer&) const = default;
};

using RouteLookup = std::function<RouteAnswer(const RouteQuery&)>;

// Where the checks send internet-bound probes: TEST-NET-1 (RFC 5737), never
// a real host, routed like any internet address. Nothing is sent to it.
inline constexpr Ipv4Address kInternetProbe{(192U << 24) | (0U << 16) | (2U << 8) | 1U};

// The address a lookup uses as a host of `subnet`: its last host, or the one
// before when that is one of this host's own addresses (a local source is a
// martian to the kernel).
Ipv4Address probe_host(const Ipv4Cidr& subnet, const std::vector<Link>& links);

// The subnets whose traffic natd forwards: the return routes' destinations
// and the private ENI's own subnet.
std::vector<Ipv4Cidr> forwarded_subnets(const NatPlan& plan);

// One sentence per way a NAT packet would fail, e.g. "internet-bound
// traffic from 10.0.2.0/24 would leave through ens6, the private ENI (via
// 10.0.1.1): it would loop back into the VPC" or "public interface ens5 has
// no IPv4 address". Empty: the kernel would forward both directions.
std::vector<std::string> check_data_path(const NatPlan& plan, const std::vector<Link>& links,
                                         const RouteLookup& lookup);

}  // namespace natd
