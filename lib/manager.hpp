// The daemon's heart: one sd-event loop that watches links and routes,
// plans, applies, persists, verifies and tells systemd (sd_notify) where it
// stands.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "config.hpp"
#include "daemon-status.hpp"
#include "exit-codes.hpp"
#include "file-registry.hpp"
#include "handles.hpp"
#include "kernel-committer.hpp"
#include "link-watcher.hpp"
#include "manager-bus.hpp"
#include "netlink-monitor.hpp"
#include "networkd-client.hpp"
#include "networkd-state.hpp"
#include "nft-events.hpp"
#include "persisted-files.hpp"
#include "plan.hpp"
#include "repair-guard.hpp"
#include "result.hpp"
#include "route.hpp"

namespace natd {

enum class ManagerState { Waiting, Configuring, Ready, Degraded, Failed };
const char* manager_state_name(ManagerState state);

struct ManagerOptions {
        std::filesystem::path root = "/";  // every file natd reads or writes is under it
        ConfigLocation config_location;    // re-read on SIGHUP
        // Exit 0 once applied and verified; exit 1 on failure or timeout.
        bool once = false;
};

// What natd last set out to make true: the plan and where its drop-in goes.
struct Target {
        NatPlan plan;
        DropinLocation dropin;

        bool operator==(const Target&) const = default;
};

class Manager final : public ManagerBusBackend {
public:
        static Result<std::unique_ptr<Manager>> create(Config config, ManagerOptions options);
        ~Manager() override = default;
        Manager(const Manager&) = delete;
        Manager& operator=(const Manager&) = delete;

        // ManagerBusBackend: what io.natd1 serves.
        [[nodiscard]] const DaemonStatus& current_status() const override { return snapshot_; }
        Status reload_configuration() override;
        Status reapply() override;
        Status teardown() override;
        Result<std::vector<RuleCounter>> rule_counters() override;

        // Runs until SIGTERM/SIGINT (exit 0), --once completion, or a fatal
        // error. Returns the process exit code. SIGTERM leaves the NAT in
        // place: stopping natd never cuts traffic.
        int run();

private:
        Manager(Config config, ManagerOptions options, KernelCommitter committer)
            : config_(std::move(config)), options_(std::move(options)),
              committer_(std::move(committer)), registry_(options_.root) {}

        Status setup();
        bool ensure_bus();
        void export_api();
        void refresh_status();
        void watch_networkd_state();
        void schedule_reconcile();
        void reconcile();
        void apply(const Target& target);
        void check(const std::map<int, NetworkdLink>& networkd_links);
        Verification repair(const NatPlan& plan, const Verification& found);
        void report_verified(const NatPlan& plan);
        void report_suspended(const Verification& v);
        void refresh_warnings();
        void arm_resume_timer();
        void await_networkd(uint64_t usec);
        void on_wait_timeout();
        void enter(ManagerState state, const std::string& status);
        void fail(const std::string& status);
        void finish(int exit_code);

        Config config_;
        ManagerOptions options_;
        KernelCommitter committer_;
        FileRegistry registry_;
        SdEventPtr loop_;
        SdBusPtr bus_;  // null without a system bus: natd then installs routes itself
        std::unique_ptr<NetworkdClient> networkd_;
        SdEventSourcePtr reconcile_source_;
        SdEventSourcePtr timeout_source_;
        SdEventSourcePtr networkd_deadline_;
        SdEventSourcePtr netif_watch_;
        SdEventSourcePtr status_source_;
        SdEventSourcePtr resume_source_;
        SdEventSourcePtr signal_sources_[3];
        std::unique_ptr<LinkWatcher> watcher_;
        std::unique_ptr<NetlinkMonitor> route_monitor_;
        std::unique_ptr<NetlinkMonitor> nft_monitor_;
        std::unique_ptr<ManagerBus> api_;

        ManagerState state_ = ManagerState::Waiting;
        uint64_t state_since_usec_ = 0;  // CLOCK_REALTIME
        std::string status_;
        std::vector<std::string> waiting_for_;
        std::optional<Verification> verification_;  // the last one, for status
        std::vector<std::string> files_;            // natd's files, absolute on the target
        uint32_t repairs_ = 0;
        uint64_t last_repair_usec_ = 0;
        std::vector<std::string> warnings_;
        DaemonStatus snapshot_;         // what io.natd1 shows, rebuilt after every event
        std::optional<Target> target_;  // applied; verification decides if it holds
        RouteOwner route_owner_ = RouteOwner::Natd;
        std::string apply_error_;       // the last apply's failure, until the next apply
        bool target_verified_ = false;  // the target held once: what is missing now was undone
        RepairGuard guard_;             // natd never fights another program forever
        std::set<std::string> undone_;  // parts found undone and not yet seen intact again
        std::optional<NftTransaction> last_foreign_nft_;  // who last changed nftables, not natd
        bool nft_changed_ = false;         // someone else changed nftables: rescan for blockers
        bool networkd_reloading_ = false;  // asked networkd to reload, routes not seen yet
        bool networkd_overdue_ = false;    // networkd's deadline passed without its routes
        uint64_t generation_ = 0;          // tells stale networkd replies apart
        bool ever_ready_ = false;
        bool stopping_ = false;  // exiting: nothing is applied or repaired any more
};

}  // namespace natd
