// Decoding of rtnetlink link and address messages into natd's types. Pure:
// tests feed it messages built in memory.
#pragma once

#include <optional>
#include <variant>

#include "ipv4.hpp"
#include "link.hpp"

struct nlmsghdr;

namespace natd {

struct LinkAdded {  // RTM_NEWLINK: a new link or a change (rename, altname, flags)
        Link link;  // without addresses
};
struct LinkRemoved {  // RTM_DELLINK
        int ifindex = 0;
};
struct AddressAdded {  // RTM_NEWADDR, IPv4 only
        int ifindex = 0;
        Ipv4Cidr address;
};
struct AddressRemoved {  // RTM_DELADDR, IPv4 only
        int ifindex = 0;
        Ipv4Cidr address;
};

using LinkEvent = std::variant<LinkAdded, LinkRemoved, AddressAdded, AddressRemoved>;

// nullopt for messages natd does not track (IPv6 addresses, other types).
std::optional<LinkEvent> parse_link_event(const nlmsghdr* nlh);

}  // namespace natd
