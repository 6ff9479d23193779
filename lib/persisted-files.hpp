// What natd persists so the NAT survives a reboot, as pure functions of the
// plan: the sysctl.d file and the systemd-networkd drop-in with the return
// routes. Paths are absolute on the target system; callers prefix --root.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plan.hpp"

namespace natd {

struct PersistedFile {
        std::filesystem::path path;
        std::string content;

        bool operator==(const PersistedFile&) const = default;
};

inline constexpr const char* kSysctlFile = "/etc/sysctl.d/90-natd.conf";
// modprobe.d(5) reads every *.conf there; natd's carries its name, like the
// package's other files.
inline constexpr const char* kModprobeFile = "/etc/modprobe.d/natd.conf";
inline constexpr const char* kNetworkdConfigDir = "/etc/systemd/network";
inline constexpr const char* kDropinName = "natd.conf";

// ip_forward, and the conntrack settings of `conntrack` with systemd-sysctl's
// "-" (a failure is no error: nf_conntrack may not be loaded yet at boot,
// and its global settings are read-only outside the initial namespace).
// `no_redirects` (single-ENI mode): send_redirects off for all interfaces
// and new ones; natd turns it off on the ENI itself when it starts.
PersistedFile sysctl_file(const ConntrackPlan& conntrack, bool no_redirects = false);

// "options nf_conntrack hashsize=N" where nf_conntrack is a loadable
// module and natd plans a hash size (ConntrackPlan::module_hashsize): the
// table has its size from the module's load at boot, before systemd-sysctl
// or natd could resize it. Nothing otherwise: a file planned no more is
// removed (FileRegistry).
std::optional<PersistedFile> modprobe_file(const ConntrackPlan& conntrack);

// Whether `path` has the shape of a file natd writes: kSysctlFile,
// kModprobeFile, or
// kNetworkdConfigDir/<name>.network.d/kDropinName with <name> one path
// component other than "." and "..". The registry trusts nothing else.
bool is_persisted_file_path(std::string_view path);

// Where the return-route drop-in goes. networkd reads drop-ins from
// "<name of the .network file>.d/" in every network directory, so natd's
// goes to /etc/systemd/network/<basename>.d/ of the file networkd uses for
// the private ENI. When networkd does not manage the ENI, or uses a file
// that also configures other links (amazon-ec2-net-utils' 80-ec2.network
// before its per-ENI 70-<if>.network exists), the drop-in would apply to
// the wrong links: it goes to net-utils' convention 70-<ifname>.network.d/.
struct DropinLocation {
        std::filesystem::path path;  // empty: no drop-in (single-ENI mode)
        // networkd configures the routes from this drop-in.
        bool used_by_networkd = false;
        // The .network file networkd applies to the ENI when natd will not
        // extend it (it configures other links too); empty otherwise.
        std::string shared_file;

        bool operator==(const DropinLocation&) const = default;
};

// `file_pins_eni`: the file's [Match] selects only this ENI
// (network-match.hpp); false for a generic match such as 80-ec2.network's.
DropinLocation route_dropin_location(const std::string& ifname, int ifindex,
                                     const std::map<int, std::string>& network_files,
                                     bool file_pins_eni = true);

// One [Route] section per return route.
std::string render_route_dropin(const std::vector<RoutePlan>& routes);

}  // namespace natd
