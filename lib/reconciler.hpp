// Observe, decide, act: the loop around the pure reconcile() step, over a
// Host. Manager runs it on its event loop after every batch of events; the
// unit tests run it against a recording fake host.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "host.hpp"
#include "link.hpp"
#include "reconcile.hpp"

namespace natd {

// What natd wants from the configuration, the links and networkd's state
// (which decides where the drop-in goes).
Desired desire(const Config& config, const std::vector<Link>& links, const HostFacts& facts,
               const std::map<int, NetworkdLink>& networkd_links);

// The plan's interfaces still exist under the same index and name.
bool links_intact(const NatPlan& plan, const std::vector<Link>& links);

class Reconciler {
public:
        Reconciler(Host& host, ReconcileOptions options) : host_(host), options_(options) {}

        struct Inputs {
                const Config& config;
                const std::vector<Link>& links;
                uint64_t now_usec = 0;  // CLOCK_MONOTONIC
                double jitter = 0.5;    // uniform in [0, 1)
                bool links_synchronized = true;
                bool wait_timed_out = false;
                std::string last_foreign_nft;  // "nft, pid 42"
                bool rescan_blockers = false;  // another program changed nftables
                HostFacts facts;               // memory, flowtables
                std::optional<HaGate> ha;      // the pair's role change, when it runs
        };

        // Observes, decides and acts until nothing is left to do; returns
        // the last decision (its report, when to look again, an exit code).
        Decision run(const Inputs& in);

        // Reapply: everything again, the table replaced even when intact.
        void reapply() { request_reapply(memory_); }
        // An operator's reload: failed parts are retried at once.
        void retry_now() { natd::retry_now(memory_); }

        // Runs when an asynchronous answer (networkd's) changed the memory.
        void set_on_async_change(std::function<void()> f) { on_async_change_ = std::move(f); }

        [[nodiscard]] const Memory& memory() const { return memory_; }
        [[nodiscard]] const Desired& desired() const { return desired_; }
        [[nodiscard]] const std::optional<Verification>& verification() const {
                return verification_;
        }
        // natd's files for the current target, as paths on this host.
        [[nodiscard]] const std::vector<std::string>& files() const { return files_; }
        [[nodiscard]] const std::vector<std::string>& blockers() const { return blockers_; }
        // Why a NAT packet would not make it, as the last route lookups said.
        [[nodiscard]] const std::vector<std::string>& data_path() const { return data_path_; }
        // Everything that makes a verified NAT degraded, for status: return
        // routes natd leaves out, the data path, foreign blockers.
        [[nodiscard]] std::vector<std::string> warnings() const;
        // The conntrack table's fill, as last read: above kConntrackWarnPercent
        // a warning (new connections fail once it is full).
        void note_conntrack_usage(uint64_t count, uint64_t max);

private:
        Observed observe(const Inputs& in, const Target* target,
                         const std::map<int, NetworkdLink>& networkd_links);
        void act(const std::vector<Action>& actions, const Target& target, const Inputs& in);
        Status execute(const Action& action, const Target& target);
        void refresh_blockers(const NatPlan& plan);
        void note_data_path(std::vector<std::string> problems);
        void note_route_warnings(std::vector<std::string> problems);

        Host& host_;
        ReconcileOptions options_;
        Memory memory_;
        Desired desired_;
        std::optional<Verification> verification_;  // the last one, for status and logs
        std::vector<std::string> files_;
        std::vector<std::string> blockers_;
        std::optional<NatPlan> blockers_plan_;  // the plan blockers_ were judged for
        std::vector<std::string> data_path_;
        std::vector<std::string> route_warnings_;
        std::vector<std::string> conntrack_notes_;
        std::vector<std::string> address_problems_;
        std::string conntrack_usage_warning_;
        std::function<void()> on_async_change_;
};

}  // namespace natd
