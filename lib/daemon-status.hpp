// natd's state as natd-ctl shows it: filled from D-Bus when natd answers,
// or from natd-ctl's own look at the kernel when it does not. Pure data and
// pure formatting, so both outputs are unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace natd {

struct InterfaceStatus {
        std::string selector;
        std::string name;  // empty: not resolved
        int ifindex = 0;
        std::string mac;
        std::string operstate;
        std::vector<std::string> addresses;
        // How the selector found it: "name", "MAC", "altname ...", "IMDS ...";
        // empty before natd planned.
        std::string source;

        bool operator==(const InterfaceStatus&) const = default;
};

// One ENI as the instance metadata service lists it.
struct EniStatus {
        std::string mac;
        std::string interface;  // the kernel's name for it; empty: no link has the MAC
        std::string interface_id;
        int32_t device_number = -1;  // -1: not known (yet)
        int32_t network_card = 0;
        std::string subnet;
        std::vector<std::string> vpc_cidrs;
        std::vector<std::string> local_ipv4s;
        std::vector<std::string> public_ipv4s;

        bool operator==(const EniStatus&) const = default;
};

// What natd learnt from the instance metadata service ([Discovery]).
struct DiscoveryStatus {
        std::string imds;  // "disabled", "pending", "ok", "unavailable"; empty: not known
        std::string endpoint;
        std::string error;  // why it is unavailable, or why its latest refresh failed
        std::string instance_id;
        std::vector<std::string> notes;  // what did not add up (device-number disagreements)
        std::vector<EniStatus> enis;

        bool operator==(const DiscoveryStatus&) const = default;
};

// One fact natd's plan rests on, and where it came from.
struct FactStatus {
        std::string fact;
        std::string value;
        std::string source;

        bool operator==(const FactStatus&) const = default;
};

struct RouteStatus {
        std::string destination;
        std::string gateway;
        bool present = false;

        bool operator==(const RouteStatus&) const = default;
};

struct RuleCounter {
        std::string role;  // masquerade, forward-out, return-in, drop-in
        std::string rule;  // nft syntax
        uint64_t packets = 0;
        uint64_t bytes = 0;

        bool operator==(const RuleCounter&) const = default;
};

// One step of the pair's current role change (ha-role.hpp).
struct HaStepStatus {
        std::string step;   // "commit-conntrack", "replace-routes", ...
        std::string state;  // "pending", "running", "done", "failed"
        uint32_t failures = 0;
        std::string error;

        bool operator==(const HaStepStatus&) const = default;
};

// The active/standby pair ([HighAvailability]); role empty: no pair.
struct HighAvailabilityStatus {
        std::string role;  // active, standby, fault, stopped, starting
        std::string vrrp;  // keepalived's last word: master, backup, fault, stop, unknown
        std::string status;
        std::string peer;
        std::string floating_address;
        bool holds_floating_address = false;
        std::vector<std::string> route_tables;
        uint64_t role_since_usec = 0;  // CLOCK_REALTIME: keepalived's notify
        // The last completed role change: its role, when it began, how long
        // it took until the role was in place.
        std::string last_transition_role;
        uint64_t last_transition_usec = 0;
        uint64_t last_transition_duration_usec = 0;
        std::vector<HaStepStatus> steps;
        std::string ec2_endpoint;
        std::string region;
        std::string instance_role;
        // conntrackd's state sync (conntrackd -s, read every 5 s).
        uint64_t sync_internal_entries = 0;  // this NAT's connections
        uint64_t sync_external_entries = 0;  // the peer's, ready for a takeover
        uint64_t sync_packets_sent = 0;
        uint64_t sync_packets_received = 0;
        uint64_t sync_errors = 0;  // send and receive errors
        uint64_t sync_lost_messages = 0;
        std::string
                sync_error;  // why conntrackd could not be asked; empty: the counters are current

        bool operator==(const HighAvailabilityStatus&) const = default;
};

struct DaemonStatus {
        bool reachable = false;  // natd answered on the bus
        std::string state;       // waiting, configuring, ready, degraded, failed
        uint64_t state_since_usec = 0;
        std::string status_text;
        std::vector<std::string> waiting_for;
        InterfaceStatus public_interface;
        InterfaceStatus private_interface;
        std::optional<bool> forwarding;
        bool table_present = false;
        bool table_verified = false;
        std::vector<RuleCounter> counters;
        std::vector<RouteStatus> routes;
        std::string route_owner;
        std::string flow_offload;  // "on", "off (...)", "unavailable: ..."; empty: no plan
        std::vector<std::string> files;
        std::optional<uint64_t> conntrack_count;
        std::optional<uint64_t> conntrack_max;
        uint32_t repairs = 0;
        uint64_t last_repair_usec = 0;
        std::vector<std::string> warnings;
        DiscoveryStatus discovery;
        std::vector<FactStatus> facts;
        HighAvailabilityStatus high_availability;

        bool operator==(const DaemonStatus&) const = default;
};

// natd-ctl status exit codes.
inline constexpr int kStatusReady = 0;
inline constexpr int kStatusNotReady = 1;
inline constexpr int kStatusUnreachable = 3;
int status_exit_code(const DaemonStatus& s);

// The documented, stable JSON object of `natd-ctl status --json`
// (doc/natd-ctl-status-json.txt).
std::string format_status_json(const DaemonStatus& s);

// Human output in the manner of `systemctl status`. `now_usec` makes the
// "5min ago" part testable; colour only when asked (on a terminal).
std::string format_status_text(const DaemonStatus& s, uint64_t now_usec, bool color);

}  // namespace natd
