// One route lookup in the kernel (RTM_GETROUTE, as `ip route get DST from
// SRC iif IF`): the imperative half of data-path.hpp.
#pragma once

#include "data-path.hpp"
#include "netlink-socket.hpp"

namespace natd {

// A refused lookup comes back as RouteAnswer::error (EHOSTUNREACH,
// ENETUNREACH, EXDEV, ...), as does a failed netlink call.
RouteAnswer lookup_route(NetlinkSocket& rtnl, const RouteQuery& query);

}  // namespace natd
