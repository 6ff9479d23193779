// Return routes in the kernel's main table: install, list, remove, compare.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ipv4.hpp"
#include "netlink-socket.hpp"
#include "plan.hpp"
#include "result.hpp"

namespace natd {

// rtm_protocol of the routes natd installs itself, so they can be told
// from everyone else's (iproute2 shows it as "proto 213").
inline constexpr uint8_t kRouteProtocol = 213;

struct KernelRoute {
        Ipv4Cidr destination;
        std::optional<Ipv4Address> gateway;
        int ifindex = 0;
        bool onlink = false;
        uint8_t protocol = 0;
        uint32_t priority = 0;
};

// Adds every route in one batch; the errors of those that failed, each
// naming its route (empty: all added).
std::vector<std::string> install_routes(NetlinkSocket& rtnl,
                                        const std::vector<const RoutePlan*>& routes);
Status remove_route(NetlinkSocket& rtnl, const KernelRoute& route);
// IPv4 unicast routes of the main table.
Result<std::vector<KernelRoute>> read_routes(NetlinkSocket& rtnl);
// Pure: one message of read_routes()'s dump reply; nullopt for anything but
// an IPv4 unicast route of the main table (or a truncated message).
std::optional<KernelRoute> parse_route_message(const nlmsghdr* reply);

// Who installs the return routes: natd over netlink, or systemd-networkd
// from natd's drop-in (networkd removes routes it did not configure when it
// reconfigures a link, so where it manages the link, the routes are its).
enum class RouteOwner { Natd, Networkd };

// True when `route` is in the kernel as planned. Any installer counts for
// Natd; for Networkd only a route networkd installed (not natd's protocol).
bool route_present(const RoutePlan& route, const std::vector<KernelRoute>& kernel,
                   RouteOwner owner = RouteOwner::Natd);

// A route of someone else's (not natd's protocol) for the destination of
// `route` in the main table that is not `route` itself as planned (networkd
// installing natd's drop-in is as planned); nullptr when there is none.
const KernelRoute* conflicting_route(const RoutePlan& route,
                                     const std::vector<KernelRoute>& kernel);

// "10.0.2.0/24 via 10.0.1.1 dev ens6 conflicts with an existing route
// 10.0.2.0/24 dev wg0 proto 4: left alone".
std::string describe_conflict(const RoutePlan& route, const KernelRoute& other);

// One sentence per planned route that is missing.
std::vector<std::string> compare_routes(const std::vector<RoutePlan>& plan,
                                        const std::vector<KernelRoute>& kernel,
                                        RouteOwner owner = RouteOwner::Natd);

}  // namespace natd
