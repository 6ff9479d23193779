// The reconciler's decision: a pure function from what natd wants (the
// plan, or what it waits for), what it last observed of the kernel and its
// files, and a small explicit memory, to typed actions and the state to
// report. Level-triggered and idempotent, after systemd-networkd's request
// queue and Kubernetes controllers: every call looks at the whole picture,
// so a retry, a repair and a first apply are the same decision.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kernel-committer.hpp"
#include "networkd-state.hpp"
#include "persisted-files.hpp"
#include "plan.hpp"
#include "repair-guard.hpp"

namespace natd {

// What natd last set out to make true: the plan and where its drop-in goes.
struct Target {
        NatPlan plan;
        DropinLocation dropin;

        bool operator==(const Target&) const = default;
};

// The files a target persists: the sysctl file, the nf_conntrack modprobe
// option where planned, and the route drop-in, always last.
std::vector<PersistedFile> target_files(const Target& target);

// The parts natd owns and keeps, each verified, repaired and retried on
// its own.
enum class Part { Forwarding, Ruleset, Files, Routes, Conntrack };
inline constexpr size_t kPartCount = 5;
const char* part_name(Part part);  // "forwarding", "ruleset", "files", "routes", "conntrack"

// Who installs the return routes, as one state instead of flags:
//  Natd             natd over netlink (networkd does not manage the link)
//  NetworkdPending  networkd from natd's drop-in; natd waits until `deadline`
//  Networkd         networkd's routes are in the kernel
//  NatdInterim      networkd should, but did not in time: natd installs them
//                   until networkd's own appear (a handover, not a repair)
enum class RouteOwnership { Natd, NetworkdPending, Networkd, NatdInterim };
const char* route_ownership_name(RouteOwnership ownership);

enum class ManagerState { Waiting, Configuring, Ready, Degraded, Failed };
const char* manager_state_name(ManagerState state);

// What natd wants, from the configuration and the links.
struct Desired {
        std::optional<Target> target;      // nullopt: waiting
        std::vector<std::string> waiting;  // why, when there is no target
};

// What the shell read for the decision, against the target check_target()
// chose.
// How far the pair's role change is (ha-role.hpp): a verified NAT with a
// pair is ready only once its role is in place.
struct HaGate {
        bool complete = false;
        bool failing = false;
        std::string status;

        bool operator==(const HaGate&) const = default;
};

struct Observed {
        uint64_t now_usec = 0;  // CLOCK_MONOTONIC
        double jitter = 0.5;    // uniform in [0, 1): spreads retries
        // The interfaces of the last applied target are still there under
        // the same index and name (while waiting, natd keeps guarding them).
        bool applied_links_intact = false;
        std::optional<Verification> kernel;         // nullopt: nothing to check
        bool files_current = false;                 // every file as planned, no stale one
        bool dropin_current = false;                // the route drop-in as planned
        bool networkd_reachable = false;            // a system bus to ask networkd on
        std::optional<NetworkdLink> networkd_link;  // networkd's state of the private ENI
        std::vector<std::string> blockers;          // foreign rules that drop NAT traffic
        std::vector<std::string> data_path;         // check_data_path(): what the kernel refuses
        std::string last_foreign_nft;               // "nft, pid 42", for fight reports
        bool links_synchronized = true;             // the link table is a complete dump
        bool wait_timed_out = false;                // WaitTimeoutSec passed
        // The private ENI has an IPv4 address. When its last one goes the
        // kernel drops every route over it (and networkd, reconfiguring a
        // DHCP link, removes the address first).
        bool private_has_ipv4 = true;
        // The plan has a pair: its role change (nullopt: not started yet).
        std::optional<HaGate> ha;
};

struct PartMemory {
        bool held = false;          // seen intact since the target was set
        bool undone = false;        // found undone after it held, not yet intact again
        bool just_applied = false;  // an action for it succeeded since the last look
        unsigned failures = 0;      // consecutive failed attempts
        uint64_t retry_at_usec = 0;
        std::string error;  // the last failure, for status

        bool operator==(const PartMemory&) const = default;
};

struct Memory {
        std::optional<Target> applied;  // the target natd works towards
        std::array<PartMemory, kPartCount> parts{};
        RouteOwnership routes = RouteOwnership::Natd;
        uint64_t networkd_deadline_usec = 0;  // for NetworkdPending
        uint64_t generation = 0;              // tells stale networkd replies apart
        bool reload_requested = false;        // a networkd Reload is in flight
        // The drop-in changed and networkd has not been asked to reload
        // since: asked once networkd is done configuring the link.
        bool reload_due = false;
        // The drop-in networkd now reads was written while networkd used
        // another file for the ENI: networkd may have read the ENI's own
        // file before the drop-in was there. Settled once networkd is done
        // configuring the link: its routes are in, or one reload is due.
        bool dropin_unconfirmed = false;
        // When natd's own routes went missing from an ENI networkd manages
        // (0: they did not): natd looks again before it calls it a repair.
        uint64_t routes_lost_usec = 0;
        bool replace_requested = false;  // Reapply: replace the table even if intact
        RepairGuard guard;
        uint32_t repairs = 0;  // all parts
        // Per part (Part's order), for natd_repairs_total{part=...}; like
        // the total, kept across targets.
        std::array<uint32_t, kPartCount> part_repairs{};
        bool repaired_now = false;  // the last decision counted a repair
        bool ever_ready = false;

        PartMemory& part(Part p) { return parts[static_cast<size_t>(p)]; }
        [[nodiscard]] const PartMemory& part(Part p) const { return parts[static_cast<size_t>(p)]; }
};

// Actions, executed in order by the shell; the first failure stops the rest.
struct SetForwarding {
        bool operator==(const SetForwarding&) const = default;
};
struct SetConntrack {
        bool operator==(const SetConntrack&) const = default;
};
struct ReplaceTable {
        bool operator==(const ReplaceTable&) const = default;
};
struct WriteFiles {
        bool operator==(const WriteFiles&) const = default;
};
struct SyncRoutes {
        std::vector<RoutePlan> wanted;  // natd's own routes become exactly these
        bool operator==(const SyncRoutes&) const = default;
};
struct ReloadNetworkd {
        uint64_t generation = 0;
        bool operator==(const ReloadNetworkd&) const = default;
};
using Action = std::variant<SetForwarding, ReplaceTable, WriteFiles, SyncRoutes, ReloadNetworkd,
                            SetConntrack>;
Part part_of(const Action& action);
std::string describe(const Action& action);

struct LogLine {
        enum Level { Info, Warning, Error } level = Info;
        std::string text;
        bool operator==(const LogLine&) const = default;
};

struct Report {
        ManagerState state = ManagerState::Waiting;
        std::string status;  // STATUS=, one sentence
        std::vector<std::string> waiting_for;
        std::string route_owner;  // "natd" or "networkd", for status
        bool operator==(const Report&) const = default;
};

struct Decision {
        Memory memory;                      // the memory to keep
        std::vector<Action> actions;        // empty: nothing to do until something changes
        Report report;                      // meaningful when there are no actions
        std::optional<uint64_t> wake_usec;  // look again then (retry, deadline, guard)
        std::vector<LogLine> log;
        std::optional<int> exit_code;  // --once done, or WaitTimeoutSec passed
        bool notify_ready = false;     // the first READY=1
};

struct ReconcileOptions {
        bool once = false;  // fail fast: the first failure ends natd with exit 1
        uint64_t networkd_grace_usec = 30ULL * 1000 * 1000;
        uint64_t networkd_settle_usec = 1000ULL * 1000;
        uint64_t retry_min_usec = 100ULL * 1000;
        uint64_t retry_max_usec = 30ULL * 1000 * 1000;
};

// The target the shell should observe for this decision: the desired one,
// or while waiting the applied one if its interfaces are still intact.
const Target* check_target(const Desired& desired, const Memory& memory, bool links_intact);

Decision reconcile(const Desired& desired, const Observed& observed, Memory memory,
                   const ReconcileOptions& options);

// What the shell tells the memory after executing an action, or when it
// did not execute it because an earlier step of its part failed.
void record_success(Memory& memory, const Action& action);
void record_skipped(Memory& memory, const Action& action);
void record_failure(Memory& memory, const Action& action, const std::string& error,
                    uint64_t now_usec, double jitter, const ReconcileOptions& options);
// networkd answered a Reload (or the call failed).
void record_networkd_reload(Memory& memory, uint64_t generation, bool ok);
// Reapply: everything again, the table replaced even when intact.
void request_reapply(Memory& memory);
// Reload (SIGHUP): failed parts are retried at once.
void retry_now(Memory& memory);

// backoff_delay_usec() with the options' bounds.
uint64_t retry_delay_usec(unsigned failures, double jitter, const ReconcileOptions& options);

}  // namespace natd
