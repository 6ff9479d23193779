// Rules in other tables that will block NAT traffic. nftables runs every
// base chain on a hook: an accept in natd's forward chain does not override
// a drop in another table's. natd never edits those tables; it reports them.
#pragma once

#include <string>
#include <vector>

#include "netlink-socket.hpp"
#include "result.hpp"

namespace natd {

// One sentence per blocker: a forward-hook base chain with policy drop, or
// an unconditional drop/reject rule in such a chain (iptables-services'
// `-A FORWARD -j REJECT` is the classic case).
Result<std::vector<std::string>> find_forward_blockers(NetlinkSocket& nfnl);

}  // namespace natd
