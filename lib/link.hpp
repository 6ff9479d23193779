// What natd knows of one network interface, as the kernel last announced it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ipv4.hpp"
#include "mac-address.hpp"

namespace natd {

struct Link {
        int ifindex = 0;
        std::string name;                   // kernel name, at most 15 characters
        std::vector<std::string> altnames;  // IFLA_ALT_IFNAME, up to 127 characters
        std::optional<MacAddress> mac;
        bool up = false;             // IFF_UP
        std::string operstate;       // "up", "down", "unknown", ...
        std::vector<Ipv4Cidr> ipv4;  // interface addresses, with host bits

        bool operator==(const Link&) const = default;
};

}  // namespace natd
