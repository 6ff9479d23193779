#include "manager.hpp"

#include <csignal>
#include <cstring>
#include <sys/inotify.h>
#include <unistd.h>
#include <utility>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "conntrack-settings.hpp"
#include "conntrack-stats.hpp"
#include "ethtool-stats.hpp"
#include "forwarding.hpp"
#include "health.hpp"
#include "kernel-module.hpp"
#include "kernel-status.hpp"
#include "metrics-textfile.hpp"
#include "networkd-state.hpp"
#include "teardown.hpp"

namespace natd {

namespace {

// keepalived's notify hook runs natd-ctl: the one installed next to natd
// (a build tree, tests), else the package's.
std::string natd_ctl_path() {
        std::error_code ec;
        const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
        if (!ec) {
                const auto next_to = self.parent_path() / "natd-ctl";
                if (std::filesystem::exists(next_to, ec))
                        return next_to.string();
        }
        return "/usr/bin/natd-ctl";
}

}  // namespace

namespace {

// What the metadata service said, for status: the ENIs with the kernel's
// names for them.
DiscoveryStatus discovery_status(const ImdsFacts& facts, const std::string& endpoint,
                                 const std::vector<Link>& links) {
        DiscoveryStatus d;
        d.imds = imds_state_name(facts.state);
        d.endpoint = endpoint;
        d.error = facts.error;
        if (!facts.available())
                return d;
        d.instance_id = facts.metadata.instance_id;
        d.notes = facts.metadata.problems;
        for (const auto& eni : facts.metadata.enis) {
                EniStatus e;
                e.mac = eni.mac.str();
                for (const auto& l : links)
                        if (l.mac && *l.mac == eni.mac)
                                e.interface = l.name;
                e.interface_id = eni.interface_id;
                e.device_number = eni.device_number ? static_cast<int32_t>(*eni.device_number) : -1;
                e.network_card = static_cast<int32_t>(eni.network_card.value_or(0));
                e.subnet = eni.subnet ? eni.subnet->str() : "";
                for (const auto& c : eni.vpc_cidrs)
                        e.vpc_cidrs.push_back(c.str());
                for (const auto& a : eni.local_ipv4s)
                        e.local_ipv4s.push_back(a.str());
                for (const auto& a : eni.public_ipv4s)
                        e.public_ipv4s.push_back(a.str());
                d.notes.insert(d.notes.end(), eni.problems.begin(), eni.problems.end());
                d.enis.push_back(std::move(e));
        }
        return d;
}

template <typename F>
int add_timer(sd_event* loop, SdEventSourcePtr& slot, clockid_t clock, uint64_t usec, bool relative,
              F on_fire, void* self) {
        sd_event_source* t = nullptr;
        // 1 ms accuracy: the default coalesces timers by up to 250 ms.
        const int r =
                relative ? sd_event_add_time_relative(loop, &t, clock, usec, 1000, on_fire, self)
                         : sd_event_add_time(loop, &t, clock, usec, 1000, on_fire, self);
        if (r >= 0)
                slot.reset(t);
        return r;
}

uint64_t now(sd_event* loop, clockid_t clock) {
        uint64_t usec = 0;
        sd_event_now(loop, clock, &usec);
        return usec;
}

}  // namespace

Manager::Manager(Config config, ManagerOptions options, InstanceLock lock,
                 KernelCommitter committer)
    : config_(std::move(config)), options_(std::move(options)), lock_(std::move(lock)),
      committer_(std::move(committer)),
      host_(committer_, options_.root, [this] { return ensure_bus(); }),
      reconciler_(host_, ReconcileOptions{.once = options_.once}),
      jitter_source_(std::random_device{}()) {}

Result<std::unique_ptr<Manager>> Manager::create(Config config, ManagerOptions options) {
        auto lock = InstanceLock::acquire(options.root);
        if (!lock.ok())
                return lock.failure();
        auto committer = KernelCommitter::open();
        if (!committer.ok())
                return committer.failure();
        std::unique_ptr<Manager> m(new Manager(std::move(config), std::move(options),
                                               std::move(lock).value(),
                                               std::move(committer).value()));
        if (auto s = m->setup(); !s.ok())
                return s.failure();
        return m;
}

Status Manager::setup() {
        sd_event* loop = nullptr;
        if (int r = sd_event_new(&loop); r < 0)
                return errno_error("create event loop", -r);
        loop_.reset(loop);
        if (auto s = watch_signals(); !s.ok())
                return s;

        // Event bursts (a link appearing brings several messages, natd's own
        // routes echo back) coalesce into one reconciliation per iteration.
        sd_event_source* defer = nullptr;
        if (int r = sd_event_add_defer(
                    loop, &defer,
                    [](sd_event_source*, void* userdata) {
                            static_cast<Manager*>(userdata)->reconcile();
                            return 0;
                    },
                    this);
            r < 0)
                return errno_error("add reconcile source", -r);
        reconcile_source_.reset(defer);
        sd_event_source_set_enabled(defer, SD_EVENT_OFF);
        reconciler_.set_on_async_change([this] { schedule_reconcile(); });

        if (config_.wait_timeout) {
                const auto usec = static_cast<uint64_t>(config_.wait_timeout->count());
                if (int r = add_timer(
                            loop, timeout_source_, CLOCK_MONOTONIC, usec, true,
                            [](sd_event_source*, uint64_t, void* userdata) {
                                    auto* self = static_cast<Manager*>(userdata);
                                    self->wait_timed_out_ = true;
                                    self->schedule_reconcile();
                                    return 0;
                            },
                            this);
                    r < 0)
                        return errno_error("arm the wait timeout", -r);
        }

        // The watchdog, when systemd asks for one, is sd-event's business.
        sd_event_set_watchdog(loop, true);

        watch_networkd_state();
        ensure_bus();  // exports io.natd1

        // After every event, io.natd1 shows the state that event left.
        sd_event_source* post = nullptr;
        if (int r = sd_event_add_post(
                    loop, &post,
                    [](sd_event_source*, void* userdata) {
                            static_cast<Manager*>(userdata)->refresh_status();
                            return 0;
                    },
                    this);
            r < 0)
                return errno_error("add status source", -r);
        status_source_.reset(post);

        if (auto s = watch_kernel(); !s.ok())
                return s;
        poll_legacy_firewall();
        if (auto memory = read_memory_total(); memory.ok())
                facts_.memory_bytes = memory.value();
        else
                spdlog::warn("{}; [Conntrack] Max=auto and HashSize=auto leave the kernel's "
                             "sizes",
                             memory.error());
        facts_.no_flowtables = committer_.probe_flowtables();
        spdlog::debug("nftables flowtables: {}",
                      facts_.no_flowtables.empty() ? "available" : facts_.no_flowtables);
        const auto conntrack_kind = classify_module("nf_conntrack", probe_module("nf_conntrack"));
        facts_.conntrack_module = conntrack_kind == ModuleKind::Loadable;
        spdlog::debug("nf_conntrack: {}", module_kind_name(conntrack_kind));
        poll_conntrack_usage();
        metrics_tick();
        if (auto s = start_imds(); !s.ok())
                return s;
        schedule_reconcile();
        return Ok{};
}

Status Manager::start_imds() {
        // The old watch stays until a new one exists: natd always has one.
        // (The status follows by itself: status_source_ runs after every
        // event, this one included.)
        auto watch = ImdsWatch::create(loop_.get(), config_.imds, config_.imds_endpoint,
                                       [this] { schedule_reconcile(); });
        if (!watch.ok())
                return watch.failure().wrapped("start the IMDS client");
        imds_ = std::move(watch).value();
        return Ok{};
}

template <void (Manager::*Poll)()>
int Manager::rearm_poll(SdEventSourcePtr& slot, uint64_t usec) {
        if (slot) {
                if (int r = sd_event_source_set_time_relative(slot.get(), usec); r < 0)
                        return r;
                return sd_event_source_set_enabled(slot.get(), SD_EVENT_ONESHOT);
        }
        return add_timer(
                loop_.get(), slot, CLOCK_MONOTONIC, usec, true,
                [](sd_event_source*, uint64_t, void* userdata) {
                        (static_cast<Manager*>(userdata)->*Poll)();
                        return 0;
                },
                this);
}

void Manager::poll_conntrack_usage() {
        // Connections come and go without events natd could watch, and
        // nothing announces a changed conntrack sysctl, nor send_redirects
        // (forwarding has RTM_NEWNETCONF): natd looks itself.
        if (auto usage = read_conntrack_usage(); usage.ok())
                reconciler_.note_conntrack_usage(usage.value().count, usage.value().max);
        auto redirects_on = [](const NatPlan& plan) {
                if (!plan.no_redirects)
                        return false;
                for (const auto& conf : {std::string("all"), plan.public_interface.name})
                        if (auto on = read_send_redirects(conf); !on.ok() || on.value())
                                return true;
                return false;
        };
        if (const auto& applied = reconciler_.memory().applied;
            applied && (!check_conntrack(applied->plan.conntrack).drift.empty() ||
                        redirects_on(applied->plan)))
                schedule_reconcile();
        if (int r = rearm_poll<&Manager::poll_conntrack_usage>(conntrack_poll_, kConntrackPollUsec);
            r < 0)
                spdlog::warn("Could not arm the conntrack timer ({}); status no longer warns "
                             "of a full conntrack table",
                             std::strerror(-r));
}

MetricsSnapshot Manager::collect_metrics() {
        MetricsSnapshot m;
        m.state = manager_state_name(report_.state);
        for (const auto state : {ManagerState::Waiting, ManagerState::Configuring,
                                 ManagerState::Ready, ManagerState::Degraded, ManagerState::Failed})
                m.states.emplace_back(manager_state_name(state));
        // Each source is read now, so a scrape sees the kernel's counters as
        // they are; one that cannot be read is left out (and said at debug
        // level: conntrack not loaded yet, the table not applied yet).
        if (auto read = committer_.read_counters(); read.ok() && read.value().present)
                m.rules = std::move(read).value().counters;
        else if (!read.ok())
                spdlog::debug("Metrics: {}", read.error());
        if (auto usage = read_conntrack_usage(); usage.ok()) {
                m.conntrack_entries = usage.value().count;
                m.conntrack_limit = usage.value().max;
        }
        if (auto stats = read_conntrack_stats(); stats.ok())
                m.conntrack_stats = stats.value();
        else
                spdlog::debug("Metrics: {}", stats.error());
        const Memory& memory = reconciler_.memory();
        m.repairs = memory.repairs;
        for (size_t i = 0; i < kPartCount; ++i)
                m.repairs_by_part.emplace_back(part_name(static_cast<Part>(i)),
                                               memory.part_repairs[i]);
        if (memory.applied)
                m.snat_addresses = snat_address_count(memory.applied->plan.ruleset);
        if (ha_) {
                const auto& h = snapshot_.high_availability;
                HaMetrics ha;
                ha.role = h.role;
                ha.holds_floating_address = h.holds_floating_address;
                ha.transitions = ha_->transitions();
                if (!h.last_transition_role.empty())
                        ha.last_transition_usec = h.last_transition_duration_usec;
                if (h.sync_error.empty()) {
                        ha.sync_internal_entries = h.sync_internal_entries;
                        ha.sync_external_entries = h.sync_external_entries;
                        ha.sync_lost_messages = h.sync_lost_messages;
                        ha.sync_errors = h.sync_errors;
                }
                m.ha = std::move(ha);
        }
        for (const auto* i : {&snapshot_.public_interface, &snapshot_.private_interface}) {
                if (i->name.empty())
                        continue;
                auto ena = read_ena_allowances(i->name);
                if (!ena.ok())
                        spdlog::debug("Metrics: {}", ena.error());
                else if (ena.value())
                        m.ena.push_back({i->name, std::move(*ena.value())});
        }
        return m;
}

void Manager::write_metrics_textfile(bool up) {
        if (config_.metrics_textfile_directory.empty()) {
                textfile_error_.clear();
                return;
        }
        const auto dir = options_.root / config_.metrics_textfile_directory.relative_path();
        MetricsSnapshot m;
        if (up)
                m = collect_metrics();
        else
                m.up = false;
        const Status s = natd::write_metrics_textfile(dir, render_metrics(m));
        std::string error = s.ok() ? ""
                                   : "metrics: cannot write " +
                                             (dir / kMetricsTextfileName).string() + ": " +
                                             s.error() + "; natd tries again in 15 s";
        if (error != textfile_error_) {
                // Loud once per cause, not every 15 s; and when it is fixed.
                if (!error.empty())
                        spdlog::error("{}", error);
                else
                        spdlog::info("metrics: writing {} again",
                                     (dir / kMetricsTextfileName).string());
                textfile_error_ = std::move(error);
        }
}

// [Metrics] Listen= and [Health] Listen=: one server per address (both
// paths on one when they are the same), started again when its address or
// paths change, retried every 15 s while it cannot bind.
void Manager::ensure_http_servers() {
        HttpServer::Routes metrics_routes;
        HttpServer::Routes health_routes;
        auto metrics = [this](const HttpServerRequest&) {
                return HttpServerResponse{200, render_metrics(collect_metrics()),
                                          kMetricsContentType};
        };
        auto health = [this](const HttpServerRequest& request) {
                HealthAnswer a =
                        health_answer(snapshot_, snapshot_.high_availability.role, request.query);
                return HttpServerResponse{a.status, std::move(a.body), "application/json"};
        };
        const auto& metrics_at = config_.metrics_listen;
        const auto& health_at = config_.health_listen;
        if (metrics_at)
                metrics_routes.emplace(kMetricsPath, metrics);
        if (health_at && health_at == metrics_at)
                metrics_routes.emplace(kHealthPath, health);
        else if (health_at)
                health_routes.emplace(kHealthPath, health);
        ensure_http_server(metrics_server_, metrics_at, "metrics", std::move(metrics_routes),
                           listen_error_);
        ensure_http_server(health_server_, health_at, "health checks", std::move(health_routes),
                           health_listen_error_);
}

void Manager::ensure_http_server(std::unique_ptr<HttpServer>& server,
                                 const std::optional<Ipv4Endpoint>& at, const char* purpose,
                                 HttpServer::Routes routes, std::string& error_slot) {
        std::vector<std::string> paths;
        for (const auto& [path, handler] : routes)
                paths.push_back(path);
        if (server && (routes.empty() || server->endpoint() != *at || server->paths() != paths)) {
                spdlog::info("No longer serving {} on {}", purpose, server->endpoint().str());
                server.reset();
        }
        if (routes.empty()) {
                error_slot.clear();
                return;
        }
        if (server)
                return;
        auto started = HttpServer::start(loop_.get(), *at, purpose, std::move(routes));
        std::string error;
        if (started.ok())
                server = std::move(started).value();
        else
                error = started.error() + "; natd tries again in 15 s";
        if (error != error_slot) {
                if (!error.empty())
                        spdlog::error("{}", error);
                error_slot = std::move(error);
        }
}

void Manager::metrics_tick() {
        ensure_http_servers();
        write_metrics_textfile();
        if (int r = rearm_poll<&Manager::metrics_tick>(metrics_timer_, kMetricsIntervalUsec); r < 0)
                spdlog::warn("Could not arm the metrics timer ({}); {} is no longer rewritten",
                             std::strerror(-r), kMetricsTextfileName);
}

void Manager::poll_legacy_firewall() {
        // x_tables announces no change: read its filter table again, and
        // rescan for blockers when it differs (counters are not compared).
        auto read = read_legacy_filter_chains();
        std::optional<std::vector<NftChain>> chains;
        std::string error;
        if (read.ok())
                chains = std::move(read).value();
        else
                error = read.error();
        if (chains != legacy_chains_ || error != legacy_error_) {
                legacy_chains_ = std::move(chains);
                legacy_error_ = std::move(error);
                nft_changed_ = true;
                schedule_reconcile();
        }
        const uint64_t interval = legacy_chains_ ? kLegacyPollUsec : kLegacyAbsentPollUsec;
        if (int r = rearm_poll<&Manager::poll_legacy_firewall>(legacy_poll_, interval); r < 0)
                spdlog::warn("Could not arm the iptables-legacy timer ({}); natd no longer "
                             "notices iptables-legacy rules that change",
                             std::strerror(-r));
}

Status Manager::watch_signals() {
        // sd-event's signal sources need the signals blocked.
        sigset_t mask;
        sigemptyset(&mask);
        // SIGCHLD too: sd-event reaps the engines' commands (child-process.hpp).
        for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD})
                sigaddset(&mask, sig);
        sigprocmask(SIG_BLOCK, &mask, nullptr);
        int i = 0;
        for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
                sd_event_source* s = nullptr;
                const int r = sd_event_add_signal(
                        loop_.get(), &s, sig,
                        [](sd_event_source*, const signalfd_siginfo* si, void* userdata) {
                                auto* self = static_cast<Manager*>(userdata);
                                if (si->ssi_signo == SIGHUP) {
                                        (void)self->reload_configuration();
                                        return 0;
                                }
                                spdlog::info("Received {}, exiting; the NAT stays in place",
                                             si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
                                self->finish(kExitSuccess);
                                return 0;
                        },
                        this);
                if (r < 0)
                        return errno_error("watch signal " + std::to_string(sig), -r);
                signal_sources_[i++].reset(s);
        }
        return Ok{};
}

Status Manager::watch_kernel() {
        auto watcher = LinkWatcher::start(loop_.get(), [this] { schedule_reconcile(); });
        if (!watcher.ok())
                return watcher.failure();
        watcher_ = std::move(watcher).value();

        // Routes and forwarding (RTNLGRP_IPV4_NETCONF announces
        // net.ipv4.ip_forward) come and go: each change is a reason to look
        // again.
        auto routes = NetlinkMonitor::start(
                loop_.get(), NETLINK_ROUTE, {RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV4_NETCONF},
                [](const nlmsghdr*) {}, [this](bool) { schedule_reconcile(); });
        if (!routes.ok())
                return routes.failure();
        route_monitor_ = std::move(routes).value();

        // So do nftables transactions; each names the process behind it.
        auto nft = NetlinkMonitor::start(
                loop_.get(), NETLINK_NETFILTER, {NFNLGRP_NFTABLES},
                [this](const nlmsghdr* nlh) {
                        if (auto t = parse_nft_transaction(nlh);
                            t && t->pid != static_cast<uint32_t>(getpid())) {
                                last_foreign_nft_ = t;
                                nft_changed_ = true;
                        }
                },
                [this](bool overrun) {
                        nft_changed_ = nft_changed_ || overrun;
                        schedule_reconcile();
                });
        if (!nft.ok())
                return nft.failure();
        nft_monitor_ = std::move(nft).value();
        return Ok{};
}

sd_bus* Manager::ensure_bus() {
        // Opened on first need and again after a failure: the bus may start
        // after natd.
        if (bus_)
                return bus_.get();
        sd_bus* bus = nullptr;
        if (int r = sd_bus_open_system(&bus); r < 0) {
                if (!bus_tried_)
                        spdlog::info("No system bus ({}); natd installs the return routes itself",
                                     std::strerror(-r));
                bus_tried_ = true;
                return nullptr;
        }
        if (int r = sd_bus_attach_event(bus, loop_.get(), SD_EVENT_PRIORITY_NORMAL); r < 0) {
                spdlog::warn("Could not attach the system bus to the event loop: {}",
                             std::strerror(-r));
                sd_bus_flush_close_unref(bus);
                return nullptr;
        }
        bus_.reset(bus);
        export_api();
        return bus_.get();
}

void Manager::export_api() {
        if (api_ || !bus_)
                return;
        auto api = ManagerBus::start(bus_.get(), *this);
        if (!api.ok()) {
                spdlog::warn("{}; natd-ctl status cannot reach natd", api.error());
                return;
        }
        api_ = std::move(api).value();
}

void Manager::watch_networkd_state() {
        // networkd rewrites /run/systemd/netif/links/<ifindex> (by rename)
        // when it starts managing a link: the drop-in's place may change.
        const auto dir = options_.root / std::filesystem::path(kNetworkdLinksDir).relative_path();
        sd_event_source* s = nullptr;
        const int r = sd_event_add_inotify(
                loop_.get(), &s, dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE,
                [](sd_event_source*, const struct inotify_event*, void* userdata) {
                        static_cast<Manager*>(userdata)->schedule_reconcile();
                        return 0;
                },
                this);
        if (r < 0) {
                spdlog::debug("Not watching {}: {}", dir.string(), std::strerror(-r));
                return;
        }
        netif_watch_.reset(s);
}

int Manager::run() {
        const int r = sd_event_loop(loop_.get());
        if (r < 0) {
                spdlog::error("Event loop failed: {}", std::strerror(-r));
                return kExitFailure;
        }
        return r;
}

void Manager::schedule_reconcile() {
        sd_event_source_set_enabled(reconcile_source_.get(), SD_EVENT_ONESHOT);
}

void Manager::reconcile() {
        if (stopping_)
                return;
        const std::string foreign = last_foreign_nft_
                                            ? last_foreign_nft_->process + ", pid " +
                                                      std::to_string(last_foreign_nft_->pid)
                                            : "";
        const auto& links = watcher_->table().links();
        imds_->links_changed(links);
        facts_.imds = imds_->facts();
        const Decision d = reconciler_.run({
                .config = config_,
                .links = links,
                .now_usec = now(loop_.get(), CLOCK_MONOTONIC),
                .jitter = std::uniform_real_distribution<double>(0, 1)(jitter_source_),
                .links_synchronized = watcher_->synchronized(),
                .wait_timed_out = wait_timed_out_,
                .last_foreign_nft = foreign,
                .rescan_blockers = std::exchange(nft_changed_, false),
                .facts = facts_,
                .ha = ha_ ? std::optional<HaGate>(HaGate{ha_->decision().complete,
                                                         ha_->decision().failing,
                                                         ha_->decision().status})
                          : std::nullopt,
        });
        follow_pair(links);
        if (reconciler_.memory().repairs != repairs_seen_) {
                repairs_seen_ = reconciler_.memory().repairs;
                last_repair_usec_ = now(loop_.get(), CLOCK_REALTIME);
        }
        // --once waits for ready (not only applied) until the timeout.
        if ((d.memory.ever_ready && !options_.once) || d.exit_code)
                timeout_source_.reset();
        enter(d.report);
        if (d.notify_ready)
                sd_notify(0, "READY=1");
        arm_wake(d.wake_usec);
        if (d.exit_code) {
                if (*d.exit_code != kExitSuccess && wait_timed_out_)
                        spdlog::error("Timed out after WaitTimeoutSec={}: {}",
                                      format_timespan(config_.wait_timeout), report_.status);
                finish(*d.exit_code);
        }
}

void Manager::arm_wake(std::optional<uint64_t> at_usec) {
        if (!at_usec) {
                wake_source_.reset();
                return;
        }
        if (wake_source_) {
                sd_event_source_set_time(wake_source_.get(), *at_usec);
                sd_event_source_set_enabled(wake_source_.get(), SD_EVENT_ONESHOT);
                return;
        }
        add_timer(
                loop_.get(), wake_source_, CLOCK_MONOTONIC, *at_usec, false,
                [](sd_event_source*, uint64_t, void* userdata) {
                        static_cast<Manager*>(userdata)->schedule_reconcile();
                        return 0;
                },
                this);
}

void Manager::enter(const Report& report) {
        const bool state_changed = report.state != report_.state;
        if (state_changed || state_since_usec_ == 0)
                state_since_usec_ = now(loop_.get(), CLOCK_REALTIME);
        const bool changed = report.status != report_.status;
        report_ = report;
        if (state_changed)
                write_metrics_textfile();
        if (!changed)
                return;
        switch (report.state) {
        case ManagerState::Failed:
                spdlog::error("{}", report.status);
                break;
        case ManagerState::Degraded:
                spdlog::warn("{}", report.status);
                break;
        default:
                spdlog::info("{}", report.status);
                break;
        }
        sd_notifyf(0, "STATUS=%s", report.status.c_str());
}

void Manager::finish(int exit_code) {
        stopping_ = true;
        // A stopped natd leaves natd_up 0, not its last counters as if live.
        write_metrics_textfile(false);
        sd_event_exit(loop_.get(), exit_code);
}

Status Manager::reload_configuration() {
        sd_notify(0, "RELOADING=1");
        ConfigLoad load = load_config(options_.config_location);
        Status result = Ok{};
        if (!load.ok()) {
                std::vector<std::string> errors;
                for (const auto& e : load.errors) {
                        spdlog::error("{}", e.str());
                        errors.push_back(e.str());
                }
                spdlog::error(
                        "Reload refused: the configuration has errors; keeping the running one");
                result = Error{join(errors)};
        } else if (load.config == config_) {
                spdlog::info("Reload: configuration unchanged; retrying what failed");
        } else {
                spdlog::info("Reload: configuration changed");
                const bool imds_changed = load.config.imds != config_.imds ||
                                          load.config.imds_endpoint != config_.imds_endpoint;
                config_ = std::move(load.config);
                metrics_tick();  // [Metrics] may have changed
                if (imds_changed) {
                        if (auto s = start_imds(); !s.ok()) {
                                spdlog::error("{}", s.error());
                                result = s;
                        }
                }
        }
        // And to look at the metadata service again (a new ENI, an Elastic IP).
        if (imds_)
                imds_->refresh("reload");
        // An operator's reload is also a request to try again now.
        reconciler_.retry_now();
        schedule_reconcile();
        // Back to whatever natd was before the reload: ready only if it was.
        sd_notify(0, reconciler_.memory().ever_ready ? "READY=1" : "STATUS=Reloaded");
        return result;
}

Status Manager::reapply() {
        if (!reconciler_.memory().applied)
                return Error{"Nothing to apply yet: " + report_.status};
        spdlog::info("Reapplying on request");
        reconciler_.reapply();
        reconcile();
        if (report_.state == ManagerState::Failed)
                return Error{report_.status};
        return Ok{};
}

Status Manager::ha_notify(const std::string& state) {
        const auto vrrp = parse_vrrp_state(state);
        if (!vrrp)
                return Error{"unknown VRRP state '" + state +
                                     "': expected master, backup, fault or stop",
                             EINVAL};
        // natd-ctl recorded it (ha-state.hpp): a pair not planned yet reads
        // it when it starts.
        if (!ha_)
                return Ok{};
        ha_->notify(*vrrp);
        schedule_reconcile();
        return Ok{};
}

Status Manager::ha_handover() {
        if (!ha_)
                return Error{"this natd has no [HighAvailability] pair", ENOENT};
        Status s = ha_->handover();
        schedule_reconcile();
        return s;
}

void Manager::follow_pair(const std::vector<Link>& links) {
        const auto& desired = reconciler_.desired();
        const auto& applied = reconciler_.memory().applied;
        // Waiting (an ENI gone a moment): the pair of what was applied, so
        // that keepalived's word is not forgotten.
        const NatPlan* plan = desired.target ? &desired.target->plan
                              : applied      ? &applied->plan
                                             : nullptr;
        if (plan == nullptr)
                return;
        if (!plan->ha) {
                if (ha_)
                        spdlog::info("high availability: no pair configured any more");
                ha_.reset();
                return;
        }
        if (!ha_) {
                HaControllerOptions options;
                options.run_directory = options_.root / "run/natd/ha";
                // natd-ctl records keepalived's word under the same root.
                options.notify_command =
                        natd_ctl_path() +
                        (options_.root == "/" ? "" : " --root " + options_.root.string()) +
                        " ha notify";
                options.imds_endpoint = config_.imds_endpoint;
                auto created = HaController::create(loop_.get(), std::move(options),
                                                    [this] { schedule_reconcile(); });
                if (!created.ok()) {
                        spdlog::error("high availability: {}", created.error());
                        return;
                }
                ha_ = std::move(created).value();
        }
        ha_->set_plan(*plan->ha);
        const HaPlan& pair = *plan->ha;
        const bool local = std::any_of(links.begin(), links.end(), [&](const Link& l) {
                return l.ifindex == pair.public_ifindex &&
                       std::any_of(l.ipv4.begin(), l.ipv4.end(), [&](const Ipv4Cidr& c) {
                               return c.address() == pair.floating_address;
                       });
        });
        ha_->observe(local);
}

Status Manager::teardown() {
        spdlog::info("Tearing down on request; natd exits afterwards");
        std::vector<std::string> removed;
        Status s = natd::teardown(committer_, options_.root, bus_.get(), removed);
        for (const auto& r : removed)
                spdlog::info("Removed {}", r);
        // Exit after the reply is out: nothing must restore what just went.
        finish(s.ok() ? kExitSuccess : kExitFailure);
        return s;
}

Result<std::vector<RuleCounter>> Manager::rule_counters() {
        auto read = committer_.read_counters();
        if (!read.ok())
                return read.failure();
        if (!read.value().present)
                return Error{"table ip natd is not in the kernel"};
        auto counters = read.value().counters;
        // natd knows each rule in nft syntax; the kernel's comment names its role.
        if (const auto& applied = reconciler_.memory().applied)
                for (auto& c : counters)
                        for (const auto& r : applied->plan.ruleset.rules)
                                if (c.role == rule_role_name(r.role))
                                        c.rule = describe(r);
        return counters;
}

void Manager::refresh_status() {
        DaemonStatus s;
        s.reachable = true;
        s.state = manager_state_name(report_.state);
        s.state_since_usec = state_since_usec_;
        s.status_text = report_.status;
        s.waiting_for = report_.waiting_for;
        const auto links = watcher_->table().links();
        const auto* applied_plan =
                reconciler_.memory().applied ? &reconciler_.memory().applied->plan : nullptr;
        // Where the plan's facts came from: as of the latest plan (the
        // applied one is not replaced when only that changed).
        const auto& desired = reconciler_.desired().target;
        const PlanProvenance* provenance = desired        ? &desired->plan.provenance
                                           : applied_plan ? &applied_plan->provenance
                                                          : nullptr;
        // The link the applied plan chose (IMDS may have found it), else
        // what the selector matches now.
        auto describe_interface = [&](const Selector& selector, const ResolvedInterface* planned,
                                      const std::string* source) {
                InterfaceStatus i;
                i.selector = selector.str();
                const Link* link = nullptr;
                if (planned != nullptr) {
                        for (const auto& l : links)
                                if (l.ifindex == planned->ifindex)
                                        link = &l;
                        i.source = source != nullptr ? *source : "";
                }
                if (link == nullptr) {
                        link = resolve(selector, links).link;
                        i.source.clear();
                }
                if (link == nullptr)
                        return i;
                i.name = link->name;
                i.ifindex = link->ifindex;
                i.mac = link->mac ? link->mac->str() : "";
                i.operstate = link->operstate;
                for (const auto& a : link->ipv4)
                        i.addresses.push_back(a.str());
                return i;
        };
        s.public_interface = describe_interface(
                config_.public_selector, applied_plan ? &applied_plan->public_interface : nullptr,
                provenance ? &provenance->public_source : nullptr);
        if (config_.private_selector)
                s.private_interface = describe_interface(
                        *config_.private_selector,
                        applied_plan ? &applied_plan->private_interface : nullptr,
                        provenance ? &provenance->private_source : nullptr);
        else
                s.private_interface.selector = "none";  // single-ENI mode
        s.discovery = discovery_status(imds_->facts(), imds_->endpoint(), links);
        if (ha_) {
                s.high_availability = ha_->status(now(loop_.get(), CLOCK_REALTIME),
                                                  now(loop_.get(), CLOCK_MONOTONIC));
        }
        if (provenance != nullptr) {
                for (const auto& f : provenance->facts)
                        s.facts.push_back({f.fact, f.value, f.source});
                s.discovery.notes.insert(s.discovery.notes.end(),
                                         provenance->discovery_notes.begin(),
                                         provenance->discovery_notes.end());
        }
        const auto& verification = reconciler_.verification();
        if (verification) {
                s.forwarding = verification->forwarding_enabled;
                s.table_present = verification->table_present;
                s.table_verified = verification->table_present && verification->ruleset.empty();
        }
        if (const auto& applied = reconciler_.memory().applied) {
                const auto& routes = applied->plan.routes;
                for (size_t i = 0; i < routes.size(); ++i)
                        s.routes.push_back({routes[i].destination.str(), routes[i].gateway.str(),
                                            verification &&
                                                    i < verification->route_present.size() &&
                                                    verification->route_present[i]});
                s.route_owner = report_.route_owner;
                s.flow_offload = applied->plan.flow_offload;
        }
        s.files = reconciler_.files();
        s.repairs = reconciler_.memory().repairs;
        s.last_repair_usec = last_repair_usec_;
        s.warnings = reconciler_.warnings();
        for (const auto* metrics : {&textfile_error_, &listen_error_, &health_listen_error_})
                if (!metrics->empty())
                        s.warnings.push_back(*metrics);
        if (ha_ && !ha_->files_error().empty())
                s.warnings.push_back("high availability: " + ha_->files_error());
        if (s == snapshot_)
                return;
        snapshot_ = std::move(s);
        if (api_)
                api_->publish(snapshot_);
}

}  // namespace natd
