// What systemd-networkd says about a link: the .network file it applies and
// whether it is done configuring. libsystemd does not export
// sd_network_link_get_network_file() to applications, so natd reads the
// same state file that function reads, /run/systemd/netif/links/<ifindex>.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "network-match.hpp"

namespace natd {

inline constexpr const char* kNetworkdLinksDir = "/run/systemd/netif/links";

struct NetworkdLink {
        std::string network_file;  // NETWORK_FILE=
        std::string admin_state;   // ADMIN_STATE=: "configuring", "configured", ...
        // The [Match] of network_file and its drop-ins; nullopt when they
        // could not be read (natd then does not extend the file).
        std::optional<NetworkMatch> match;

        // networkd is still applying the .network file (or reapplying it
        // after a reload or `networkctl reconfigure`): routes come later.
        // ("failed", "linger", "unmanaged": networkd is done with it.)
        [[nodiscard]] bool configuring() const {
                return admin_state == "pending" || admin_state == "initialized" ||
                       admin_state == "configuring";
        }
        bool operator==(const NetworkdLink&) const = default;
};

// A link state file's text; nullopt when networkd does not manage the link
// (no or empty NETWORK_FILE=).
std::optional<NetworkdLink> parse_networkd_link(std::string_view state_file);

// networkd's state files are a few hundred bytes; more is not networkd's.
inline constexpr std::size_t kNetworkdStateMaxSize = std::size_t{64} * 1024;

// Every link networkd manages, by ifindex, read under `root`. A state file
// that cannot be read (a FIFO, a symlink, too large, unreadable) does not
// stop the others: it is logged as an error, once until its problem changes,
// and added to `problems` when given. A file gone since the directory was
// listed is no problem: networkd replaced it, inotify says so again.
std::map<int, NetworkdLink> read_networkd_links(const std::filesystem::path& root,
                                                std::vector<Error>* problems = nullptr);

// ifindex -> .network file, as route_dropin_location() takes it.
std::map<int, std::string> network_files(const std::map<int, NetworkdLink>& links);

}  // namespace natd
