// natd's configuration: /etc/natd/natd.conf, then natd.conf.d/*.conf.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "forward-policy.hpp"
#include "ipv4.hpp"
#include "nat-options.hpp"
#include "selector.hpp"
#include "timespan.hpp"

namespace natd {

struct Config {
        Selector public_selector = Selector::parse("device-number-0").value();
        // None: single-ENI mode ([Interfaces] Private=none), the public ENI
        // relays for SourceCIDRs= (hairpin).
        std::optional<Selector> private_selector = Selector::parse("device-number-1").value();
        Timeout wait_timeout;  // infinity by default
        // Private subnets that send traffic through this NAT, in the order
        // configured, without duplicates.
        std::vector<Ipv4Cidr> subnets;
        // Default: first host of the private ENI's own subnet.
        std::optional<Ipv4Address> gateway;
        // The sources natd forwards and masquerades from the private ENI.
        // Empty: Subnets plus the private ENI's own subnet, known only when
        // planning (plan.cpp).
        std::vector<Ipv4Cidr> source_cidrs;
        ForwardPolicy forward_policy = ForwardPolicy::Drop;
        PortAllocation port_allocation = PortAllocation::FullyRandom;
        std::optional<PortRange> port_range;  // none: the kernel's (any free port)
        ClampMss clamp_mss;
        FlowOffload flow_offload = FlowOffload::Auto;
        // [NAT] Addresses=: the public ENI's own addresses to SNAT to (each
        // mapped to an Elastic IP); empty: masquerade to its primary one.
        std::vector<Ipv4Address> nat_addresses;
        PoolMode pool_mode = PoolMode::Persistent;
        // [Conntrack]: conntrack-plan.hpp turns these into the kernel's values.
        uint32_t conntrack_max = 0;        // 0: auto, from memory
        uint32_t conntrack_hash_size = 0;  // 0: auto, from the maximum
        uint32_t tcp_established_timeout_sec = 350;
        std::optional<uint32_t> udp_timeout_sec;  // none: the kernel's
        // [Metrics]: the Prometheus exposition (doc/metrics-api.txt).
        std::filesystem::path metrics_textfile_directory;  // empty: no textfile
        std::optional<Ipv4Endpoint> metrics_listen;        // none: no HTTP endpoint
        // [Discovery]: the instance metadata service (imds-client.hpp).
        ImdsMode imds = ImdsMode::Auto;
        std::string imds_endpoint{kDefaultImdsEndpoint};
        // [HighAvailability]: an active/standby pair on keepalived and
        // conntrackd (doc/high-availability.md); off unless Peer= is set.
        std::optional<Ipv4Address> ha_peer;
        uint32_t ha_priority = 100;
        std::vector<std::string> ha_route_tables;  // rtb-... ids
        std::optional<Ipv4Address> ha_floating_address;
        std::optional<Selector> ha_sync_interface;  // none: the private ENI
        uint32_t ha_advertisement_interval_msec = 1000;
        // Failback costs a second disruption: off unless asked for.
        bool ha_preempt = false;
        uint32_t ha_virtual_router_id = 51;
        std::string ec2_endpoint;  // empty: the region's, https://ec2.REGION.amazonaws.com
        // [Health]: GET /health for load balancers and autoscaling.
        std::optional<Ipv4Endpoint> health_listen;

        bool operator==(const Config&) const = default;
};

// One configuration file's text and the name errors should carry.
struct ConfigSource {
        std::string name;  // as printed in "FILE:LINE: message"
        std::string text;
};

struct ConfigError {
        std::string file;
        unsigned line = 0;  // 0: the error concerns the whole file
        std::string message;

        [[nodiscard]] std::string str() const;  // "FILE:LINE: message" or "FILE: message"
};

// Where a value came from: an assignment, or the built-in default.
struct ConfigOrigin {
        std::string file;
        unsigned line = 0;      // 0: the default
        std::size_t order = 0;  // of the assignment, across all files; 0: the default

        [[nodiscard]] bool is_default() const { return line == 0; }
        [[nodiscard]] std::string str() const;  // "FILE:LINE" or "default"
};

// Where one key's effective value came from.
struct KeyOrigins {
        // A scalar's last assignment; a list's last empty assignment.
        ConfigOrigin value;
        std::vector<ConfigOrigin> items;  // a list's: one per item, in order
};

struct ConfigLoad {
        Config config;
        std::vector<ConfigError> errors;  // every error found; empty means valid
        std::vector<std::string> files;   // the sources parsed, in order
        // One per key of config_schema() (config-schema.hpp), in its order.
        std::vector<KeyOrigins> origins;

        [[nodiscard]] bool ok() const { return errors.empty(); }
};

// Pure: parses the sources in order (main file first, then drop-ins), as one
// configuration. systemd INI syntax: [Section], Key=value, '#' and ';'
// comments, surrounding whitespace ignored. Scalars: last assignment wins, an
// empty assignment restores the default. Lists (Subnets=) accumulate across
// lines and files; an empty assignment resets the list. Every error is
// collected; nothing is ignored.
ConfigLoad parse_config(const std::vector<ConfigSource>& sources);

// Where the configuration lives on a (possibly scratch) root.
struct ConfigLocation {
        std::filesystem::path main_file;  // e.g. ROOT/etc/natd/natd.conf
        bool main_file_required = false;  // true when given by --config
        // Drop-in directory: main_file + ".d".
        [[nodiscard]] std::filesystem::path dropin_dir() const;
};

// --config FILE and --root DIR, as natd and natd-ctl both take them.
struct ConfigPaths {
        std::filesystem::path root = "/";
        std::filesystem::path config_file = "/etc/natd/natd.conf";
        bool config_given = false;

        // Takes getopt's 'c' (--config) or 'r' (--root); false for any other.
        bool take_option(int option, const char* argument);
        // --root applies to --config too: tests and image builds point both
        // at a scratch tree.
        [[nodiscard]] ConfigLocation location() const {
                return {root / config_file.relative_path(), config_given};
        }
};

// The pairs (i, j), i < j, of `subnets` that overlap, i.e. one contains the
// other, sorted by j then i; 0.0.0.0/0 is left out (it overlaps everything
// and has an error of its own). O(n log n): 100,000 subnets are checked in
// milliseconds.
std::vector<std::pair<std::size_t, std::size_t>>
overlapping_subnets(const std::vector<Ipv4Cidr>& subnets);

// natd.conf and its drop-ins are read whole; larger is a mistake.
inline constexpr std::size_t kConfigFileMaxSize = std::size_t{1024} * 1024;

// Reads main_file (missing is fine unless required) and every *.conf in
// dropin_dir() in lexical order, then parse_config(). Files are read without
// blocking (read-file.hpp): symlinks are followed, but a FIFO, a symlink loop
// or a dangling symlink is an error, as is anything unreadable. I/O errors
// are ConfigErrors with line 0.
ConfigLoad load_config(const ConfigLocation& where);

}  // namespace natd
