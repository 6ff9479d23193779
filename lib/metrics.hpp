// natd's metrics in the Prometheus text exposition format (version 0.0.4),
// every name prefixed natd_; doc/metrics-api.txt documents each metric and
// the NAT Gateway CloudWatch metric it stands for. The shell fills a
// MetricsSnapshot from what it read; rendering it is pure, so the output
// is unit-tested. The textfile (metrics-textfile.hpp) and the HTTP
// endpoint (http-server.hpp) serve the same text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conntrack-stats.hpp"
#include "daemon-status.hpp"
#include "ethtool-stats.hpp"
#include "ruleset-plan.hpp"

namespace natd {

struct EnaInterfaceStats {
        std::string interface;  // the kernel name, the metrics' label
        std::vector<EnaStat> stats;

        bool operator==(const EnaInterfaceStats&) const = default;
};

// The pair ([HighAvailability]), as metrics.
struct HaMetrics {
        std::string role;  // active, standby, fault, stopped, starting
        bool holds_floating_address = false;
        uint64_t transitions = 0;
        std::optional<uint64_t> last_transition_usec;
        // conntrackd's counters; nullopt: it could not be asked.
        std::optional<uint64_t> sync_internal_entries;
        std::optional<uint64_t> sync_external_entries;
        std::optional<uint64_t> sync_lost_messages;
        std::optional<uint64_t> sync_errors;

        bool operator==(const HaMetrics&) const = default;
};

struct MetricsSnapshot {
        // false: natd is stopping; only natd_up 0 is rendered.
        bool up = true;
        std::string state;                // the current state's name ("ready")
        std::vector<std::string> states;  // every state's name, in order
        // The counters of natd's rules (role from their comment); nullopt:
        // the table is not there or could not be read.
        std::optional<std::vector<RuleCounter>> rules;
        std::optional<uint64_t> conntrack_entries;
        std::optional<uint64_t> conntrack_limit;
        std::optional<ConntrackStats> conntrack_stats;
        uint64_t repairs = 0;                                           // all parts
        std::vector<std::pair<std::string, uint64_t>> repairs_by_part;  // every part
        std::optional<uint64_t> snat_addresses;  // nullopt: nothing applied yet
        std::vector<EnaInterfaceStats> ena;      // interfaces on the ena driver only
        std::optional<HaMetrics> ha;             // nullopt: no pair

        bool operator==(const MetricsSnapshot&) const = default;
};

// The rule roles natd counts as NAT traffic: out, private -> public
// (forward-out: every packet a private host sends to the internet passes
// exactly one), in, public -> private (return-in: the replies). The
// masquerade/snat rules are not used: they see only each connection's
// first packet.
inline constexpr std::string_view kOutRole = "forward-out";
inline constexpr std::string_view kInRole = "return-in";
// The nat hook sees only each connection's first packet: the packets of
// these roles' rules are the connections natd translated.
inline constexpr std::string_view kMasqueradeRole = "masquerade";
inline constexpr std::string_view kSnatRole = "snat";
// Roles "drop-REASON" count natd_dropped_packets_total{reason="REASON"}.
inline constexpr std::string_view kDropRolePrefix = "drop-";

// natd_snat_addresses of a planned table: the SNAT pool's addresses in
// use, 1 for masquerade (the public ENI's primary address), 0 for neither.
uint64_t snat_address_count(const RulesetPlan& ruleset);

// A label value as the exposition format writes it between quotes:
// backslash, double quote and line feed escaped.
std::string escape_label_value(std::string_view value);

// The exposition, HELP and TYPE before each metric family, ending in a
// line feed.
std::string render_metrics(const MetricsSnapshot& snapshot);

// Where the HTTP endpoint serves it, and what it declares.
inline constexpr const char* kMetricsPath = "/metrics";
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace natd
