// The daemon's shell: one sd-event loop that feeds events (links, routes,
// nftables, networkd's state, signals, the bus, timers) into the Reconciler
// and tells systemd (sd_notify) and io.natd1 what it reports. It decides
// nothing itself: reconcile.cpp does.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "config.hpp"
#include "daemon-status.hpp"
#include "exit-codes.hpp"
#include "ha-controller.hpp"
#include "handles.hpp"
#include "http-server.hpp"
#include "imds-watch.hpp"
#include "instance-lock.hpp"
#include "kernel-committer.hpp"
#include "link-watcher.hpp"
#include "manager-bus.hpp"
#include "metrics.hpp"
#include "netlink-monitor.hpp"
#include "nft-events.hpp"
#include "reconciler.hpp"
#include "result.hpp"
#include "system-host.hpp"
#include "xtables-rules.hpp"

namespace natd {

struct ManagerOptions {
        std::filesystem::path root = "/";  // every file natd reads or writes is under it
        ConfigLocation config_location;    // re-read on SIGHUP
        // Exit 0 once applied and verified; exit 1 on failure or timeout.
        bool once = false;
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
        Status ha_notify(const std::string& state) override;
        Status ha_handover() override;

        // Runs until SIGTERM/SIGINT (exit 0), --once completion, or a fatal
        // error. Returns the process exit code. SIGTERM leaves the NAT in
        // place: stopping natd never cuts traffic.
        int run();

private:
        Manager(Config config, ManagerOptions options, InstanceLock lock,
                KernelCommitter committer);

        Status setup();
        Status watch_signals();
        Status watch_kernel();
        sd_bus* ensure_bus();
        void export_api();
        void watch_networkd_state();
        void poll_legacy_firewall();
        void poll_conntrack_usage();
        // [Metrics]: the snapshot as of now, the textfile, the endpoint.
        MetricsSnapshot collect_metrics();
        void write_metrics_textfile(bool up = true);
        // [HighAvailability]: the controller follows the plan's pair and
        // what the links show of the floating address.
        void follow_pair(const std::vector<Link>& links);
        void ensure_http_servers();
        void ensure_http_server(std::unique_ptr<HttpServer>& server,
                                const std::optional<Ipv4Endpoint>& at, const char* purpose,
                                HttpServer::Routes routes, std::string& error_slot);
        void metrics_tick();
        // Runs Poll `usec` from now on `slot`'s timer (made on first use).
        template <void (Manager::*Poll)()>
        int rearm_poll(SdEventSourcePtr& slot, uint64_t usec);
        // [Discovery]: (re)starts the metadata service watch as configured.
        Status start_imds();
        void schedule_reconcile();
        void reconcile();
        void arm_wake(std::optional<uint64_t> at_usec);
        void enter(const Report& report);
        void finish(int exit_code);
        void refresh_status();

        Config config_;
        ManagerOptions options_;
        InstanceLock lock_;  // one natd per root, for as long as it runs
        KernelCommitter committer_;
        SystemHost host_;
        Reconciler reconciler_;
        std::mt19937_64 jitter_source_;
        SdEventPtr loop_;
        SdBusPtr bus_;  // null without a system bus: natd then installs routes itself
        bool bus_tried_ = false;
        SdEventSourcePtr reconcile_source_;
        SdEventSourcePtr timeout_source_;
        SdEventSourcePtr wake_source_;
        SdEventSourcePtr netif_watch_;
        SdEventSourcePtr legacy_poll_;     // iptables-legacy has no events: read on a timer
        SdEventSourcePtr conntrack_poll_;  // nor has the conntrack table's fill
        SdEventSourcePtr metrics_timer_;   // rewrites natd.prom, retries Listen=
        SdEventSourcePtr status_source_;
        SdEventSourcePtr signal_sources_[3];
        std::unique_ptr<LinkWatcher> watcher_;
        std::unique_ptr<NetlinkMonitor> route_monitor_;
        std::unique_ptr<NetlinkMonitor> nft_monitor_;
        std::unique_ptr<ManagerBus> api_;
        std::unique_ptr<ImdsWatch> imds_;             // asks IMDS; facts_.imds copies its facts
        std::unique_ptr<HttpServer> metrics_server_;  // null: no Listen=, or not bound
        std::unique_ptr<HttpServer> health_server_;   // null: none of its own, or not bound
        std::unique_ptr<HaController> ha_;            // null: no pair planned yet
        std::string textfile_error_;       // why natd.prom could not be written, for status
        std::string listen_error_;         // why Listen= could not be bound, for status
        std::string health_listen_error_;  // the same for [Health] Listen=

        Report report_;
        uint64_t state_since_usec_ = 0;  // CLOCK_REALTIME
        uint64_t last_repair_usec_ = 0;  // CLOCK_REALTIME
        uint32_t repairs_seen_ = 0;
        bool wait_timed_out_ = false;
        std::optional<NftTransaction> last_foreign_nft_;  // who last changed nftables, not natd
        // Memory, flowtables, nf_conntrack module: read once at start; IMDS's
        // facts: copied from imds_ at every reconciliation.
        HostFacts facts_;
        bool nft_changed_ = false;  // someone else changed nftables: rescan for blockers
        // iptables-legacy's filter table as last read (nullopt: none), or why not.
        std::optional<std::vector<NftChain>> legacy_chains_;
        std::string legacy_error_;
        DaemonStatus snapshot_;  // what io.natd1 shows, rebuilt after every event
        bool stopping_ = false;  // exiting: nothing is applied or repaired any more
};

}  // namespace natd
