// Whether the .network file systemd-networkd applies to the private ENI is
// that ENI's own. natd puts its route drop-in into the file's drop-in
// directory, and a drop-in of a file that matches other links too (AL2023's
// 80-ec2.network, `[Match] Driver=ena ixgbevf vif`, before net-utils' per-ENI
// 70-<if>.network exists) would configure them all with the return routes,
// the public ENI included. Link assignments alone cannot tell: at boot the
// other ENI may not be configured yet. The [Match] section can.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "link.hpp"
#include "result.hpp"

namespace natd {

// The [Match] keys that can pin a .network file to one interface, merged
// over the file and its drop-ins in order (lists add up; an empty
// assignment resets, as in systemd).
struct NetworkMatch {
        std::vector<std::string> mac_addresses;            // MACAddress=
        std::vector<std::string> permanent_mac_addresses;  // PermanentMACAddress=
        std::vector<std::string> names;                    // Name=

        bool operator==(const NetworkMatch&) const = default;
};

// Pure: `texts` are the .network file and then its drop-ins, in the order
// networkd reads them.
NetworkMatch parse_network_match(const std::vector<std::string>& texts);

// True when the match can only ever select `link`: a MACAddress= or
// PermanentMACAddress= list naming only its MAC, or a Name= list of plain
// names (no globs, no negation) each its name or one of its altnames.
bool pins_link(const NetworkMatch& match, const Link& link);

// The file networkd reported (NETWORK_FILE=, absolute on the target) and its
// drop-ins from every network directory under `root`, as networkd merges
// them (a same-named drop-in in a higher-priority directory masks the
// others; sorted by file name).
Result<NetworkMatch> read_network_match(const std::filesystem::path& root,
                                        const std::filesystem::path& network_file);

}  // namespace natd
