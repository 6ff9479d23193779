// Rules in other tables that drop NAT traffic. nftables runs every base
// chain on a hook: an accept in natd's forward chain does not override a
// drop in another table's. natd never edits those tables; it reads their
// chains (this file) and evaluates them against NAT packets
// (packet-verdict.hpp).
#pragma once

#include <string>
#include <vector>

#include "ipv4.hpp"
#include "netlink-socket.hpp"
#include "packet-verdict.hpp"
#include "result.hpp"

namespace natd {

// Every chain of every ip and inet table but natd's own, with its rules in
// the vocabulary packet-verdict.hpp evaluates; what it does not understand
// becomes an Unknown match.
Result<std::vector<NftChain>> read_foreign_chains(NetlinkSocket& nfnl);

// One sentence per foreign rule or policy that drops (or may drop) NAT
// traffic between the two interfaces from `sources`, in nftables and in
// iptables-legacy's filter table (xtables-rules.hpp).
Result<std::vector<std::string>> find_forward_blockers(NetlinkSocket& nfnl,
                                                       const std::string& public_ifname,
                                                       const std::string& private_ifname,
                                                       const std::vector<Ipv4Cidr>& sources);

}  // namespace natd
