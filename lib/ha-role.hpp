// The pair's role changes as a pure decision: from what keepalived said
// last (its notify hooks) and how far the steps of that role have come, to
// the steps to start now and what to report. The shell (ha-controller.hpp)
// runs the steps (conntrackd, netlink, the EC2 API) and records how they
// ended; it calls decide_ha() again after every change, like the NAT
// reconciler (reconcile.hpp).
//
// Becoming active: conntrackd commits the peer's replicated connections
// into the kernel first (replies that arrive before would be answered with
// a reset by this NAT's own stack), then at once the floating address on
// the public ENI (with gratuitous ARP), EC2 AssignPrivateIpAddresses and
// ReplaceRoute of each route table, and last the confirmation
// (DescribeRouteTables, IMDS local-ipv4s). Becoming standby or faulted:
// the floating address off, conntrackd asked for the active's table.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backoff.hpp"

namespace natd {

// keepalived's view of this NAT, as its notify hooks report it.
enum class VrrpState { Unknown, Master, Backup, Fault, Stop };
const char* vrrp_state_name(VrrpState state);  // "unknown", "master", ...
// "master", "backup", "fault", "stop" (keepalived's words, lower case).
std::optional<VrrpState> parse_vrrp_state(std::string_view text);

enum class HaStep {
        CommitConntrack,  // conntrackd -c, then -R: the peer's connections into the kernel
        AddAddress,       // the floating address on the public ENI, gratuitous ARP
        AssignAddress,    // EC2 AssignPrivateIpAddresses, AllowReassignment=true
        ReplaceRoutes,    // EC2 ReplaceRoute 0.0.0.0/0 -> the private ENI, each table
        Confirm,          // EC2 DescribeRouteTables and IMDS local-ipv4s agree
        RemoveAddress,    // the floating address off the public ENI
        RequestResync,    // conntrackd -n: the active's connections into the cache
        // Active: EC2's route tables looked at again, every kHaRecheckUsec:
        // the arbiter when VRRP between the two breaks (split brain).
        Recheck,
        // Handing over (FAULT on purpose): the peer holds the routes before
        // this NAT lets the floating address go.
        AwaitPeer,
};
inline constexpr std::size_t kHaStepCount = 9;
inline constexpr uint64_t kHaRecheckUsec = 10'000'000;
// A handover gives the peer this long to take the routes, then lets go.
inline constexpr uint64_t kHaHandoverWaitUsec = 20'000'000;
const char* ha_step_name(HaStep step);  // "commit-conntrack", ...

enum class StepState { Pending, Running, Done, Failed };

struct StepProgress {
        StepState state = StepState::Pending;
        unsigned failures = 0;
        uint64_t retry_at_usec = 0;  // a failed step starts again then
        std::string error;           // the last failure
        uint64_t done_usec = 0;

        bool operator==(const StepProgress&) const = default;
};

// One role, from the notify that began it.
struct HaTerm {
        VrrpState vrrp = VrrpState::Unknown;
        uint64_t since_usec = 0;     // CLOCK_MONOTONIC
        uint64_t complete_usec = 0;  // the role was in place (0: not yet)
        std::array<StepProgress, kHaStepCount> steps{};
        // natd-ctl ha handover (or a spot or scale-in notice) put keepalived
        // in FAULT: the address goes only once the peer holds the routes.
        bool handing_over = false;
        // Split brain: keepalived says master, but the route tables point
        // at the peer (why, for status). This NAT stands by.
        std::string yielded;

        StepProgress& step(HaStep s) { return steps[static_cast<std::size_t>(s)]; }
        [[nodiscard]] const StepProgress& step(HaStep s) const {
                return steps[static_cast<std::size_t>(s)];
        }
        bool operator==(const HaTerm&) const = default;
};

// A new term for what keepalived said: every step pending again.
HaTerm begin_term(VrrpState vrrp, uint64_t now_usec);

struct HaObservation {
        bool address_local = false;  // the public ENI has the floating address
};

struct HaDecision {
        std::vector<HaStep> start;  // steps to start now, in this order
        // "active", "standby", "fault", "stopped", "starting": the role the
        // pair's health checks and status show.
        std::string role;
        bool complete = false;              // the role is in place as far as natd can tell
        bool failing = false;               // a step keeps failing (status: degraded)
        std::string status;                 // one sentence: what is done, what waits, what fails
        std::optional<uint64_t> wake_usec;  // a failed step's retry
};

HaDecision decide_ha(const HaTerm& term, const HaObservation& observed, uint64_t now_usec);

// What the shell records when a step ends. A failed Confirm (the routes or
// the address elsewhere) makes the EC2 steps pending again.
void record_step_started(HaTerm& term, HaStep step);
void record_step_done(HaTerm& term, HaStep step, uint64_t now_usec);
void record_step_failed(HaTerm& term, HaStep step, const std::string& error, uint64_t now_usec,
                        double jitter, const BackoffPolicy& policy);
// The takeover is complete: when the role was first in place.
void record_complete(HaTerm& term, uint64_t now_usec);
// The route tables point elsewhere though keepalived says master.
void record_yield(HaTerm& term, const std::string& why);

}  // namespace natd
