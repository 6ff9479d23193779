#include "manager.hpp"

#include <csignal>
#include <cstring>
#include <functional>
#include <sys/inotify.h>
#include <unistd.h>
#include <utility>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "networkd-state.hpp"
#include "teardown.hpp"

namespace natd {

namespace {

// How long systemd-networkd may take to install the routes of a drop-in
// after a reload, or while it configures the link, before natd installs
// them itself.
constexpr uint64_t kNetworkdReloadGraceUsec = 30ULL * 1000 * 1000;
// How long a route networkd owns may be missing while networkd still calls
// the link configured: its state file is written after it drops the
// routes of a link it reconfigures.
constexpr uint64_t kNetworkdSettleUsec = 1000ULL * 1000;

template <typename F>
int add_timer(sd_event* loop, SdEventSourcePtr& slot, uint64_t usec, F on_fire, void* self) {
        sd_event_source* t = nullptr;
        // 1 ms accuracy: the default coalesces timers by up to 250 ms.
        const int r =
                sd_event_add_time_relative(loop, &t, CLOCK_MONOTONIC, usec, 1000, on_fire, self);
        if (r >= 0)
                slot.reset(t);
        return r;
}

}  // namespace

const char* manager_state_name(ManagerState state) {
        switch (state) {
        case ManagerState::Waiting:
                return "waiting";
        case ManagerState::Configuring:
                return "configuring";
        case ManagerState::Ready:
                return "ready";
        case ManagerState::Degraded:
                return "degraded";
        case ManagerState::Failed:
                return "failed";
        }
        return "unknown";
}

Result<std::unique_ptr<Manager>> Manager::create(Config config, ManagerOptions options) {
        auto committer = KernelCommitter::open();
        if (!committer.ok())
                return committer.failure();
        std::unique_ptr<Manager> m(
                new Manager(std::move(config), std::move(options), std::move(committer).value()));
        if (auto s = m->setup(); !s.ok())
                return s.failure();
        return m;
}

Status Manager::setup() {
        sd_event* loop = nullptr;
        if (int r = sd_event_new(&loop); r < 0)
                return errno_error("create event loop", -r);
        loop_.reset(loop);

        // sd-event's signal sources need the signals blocked.
        sigset_t mask;
        sigemptyset(&mask);
        for (int sig : {SIGTERM, SIGINT, SIGHUP})
                sigaddset(&mask, sig);
        sigprocmask(SIG_BLOCK, &mask, nullptr);
        int i = 0;
        for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
                sd_event_source* s = nullptr;
                const int r = sd_event_add_signal(
                        loop, &s, sig,
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

        if (config_.wait_timeout) {
                const auto usec = static_cast<uint64_t>(config_.wait_timeout->count());
                if (int r = add_timer(
                            loop, timeout_source_, usec,
                            [](sd_event_source*, uint64_t, void* userdata) {
                                    static_cast<Manager*>(userdata)->on_wait_timeout();
                                    return 0;
                            },
                            this);
                    r < 0)
                        return errno_error("arm the wait timeout", -r);
        }

        // The watchdog, when systemd asks for one, is sd-event's business.
        sd_event_set_watchdog(loop, true);

        watch_networkd_state();
        export_api();

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

        auto watcher = LinkWatcher::start(loop, [this] { schedule_reconcile(); });
        if (!watcher.ok())
                return watcher.failure();
        watcher_ = std::move(watcher).value();

        // Routes come and go (networkd installing natd's drop-in, someone
        // deleting one): each change is a reason to look again.
        // Routes and forwarding (RTNLGRP_IPV4_NETCONF announces
        // net.ipv4.ip_forward) come and go: each change is a reason to look
        // again.
        auto routes = NetlinkMonitor::start(
                loop, NETLINK_ROUTE, {RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV4_NETCONF},
                [](const nlmsghdr*) {}, [this](bool) { schedule_reconcile(); });
        if (!routes.ok())
                return routes.failure();
        route_monitor_ = std::move(routes).value();

        // So do nftables transactions; each names the process behind it.
        auto nft = NetlinkMonitor::start(
                loop, NETLINK_NETFILTER, {NFNLGRP_NFTABLES},
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

        schedule_reconcile();
        return Ok{};
}

bool Manager::ensure_bus() {
        // Opened on first need and again after a failure: the bus may start
        // after natd.
        if (bus_)
                return true;
        sd_bus* bus = nullptr;
        if (int r = sd_bus_open_system(&bus); r < 0) {
                spdlog::info("No system bus ({}); natd installs the return routes itself",
                             std::strerror(-r));
                return false;
        }
        if (int r = sd_bus_attach_event(bus, loop_.get(), SD_EVENT_PRIORITY_NORMAL); r < 0) {
                spdlog::warn("Could not attach the system bus to the event loop: {}",
                             std::strerror(-r));
                sd_bus_flush_close_unref(bus);
                return false;
        }
        bus_.reset(bus);
        networkd_ = std::make_unique<NetworkdClient>(bus_.get());
        return true;
}

void Manager::export_api() {
        if (!ensure_bus())
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

void Manager::enter(ManagerState state, const std::string& status) {
        if (state != state_ || state_since_usec_ == 0) {
                uint64_t now = 0;
                sd_event_now(loop_.get(), CLOCK_REALTIME, &now);
                state_since_usec_ = now;
        }
        state_ = state;
        if (status == status_)
                return;
        status_ = status;
        sd_notifyf(0, "STATUS=%s", status.c_str());
}

void Manager::fail(const std::string& status) {
        if (status != status_)
                spdlog::error("{}", status);
        enter(ManagerState::Failed, status);
        if (options_.once)
                finish(kExitFailure);
}

void Manager::finish(int exit_code) {
        stopping_ = true;
        sd_event_exit(loop_.get(), exit_code);
}

void Manager::reconcile() {
        if (stopping_)
                return;
        const PlanOutcome outcome = make_plan(config_, watcher_->table().links());

        if (const auto* waiting = std::get_if<Waiting>(&outcome)) {
                waiting_for_ = waiting->reasons;
                const std::string status = "Waiting for " + waiting->str();
                if (status != status_)
                        spdlog::info("{}", status);
                if (target_ && state_ != ManagerState::Waiting)
                        spdlog::warn("The NAT rules for {} -> {} stay in place until the "
                                     "interfaces are back",
                                     target_->plan.private_interface.name,
                                     target_->plan.public_interface.name);
                // target_ stays: an address that networkd re-adds, or an ENI
                // that comes back as it was, needs nothing applied again.
                enter(ManagerState::Waiting, status);
                return;
        }

        const auto& plan = std::get<NatPlan>(outcome);
        const auto networkd_links = read_networkd_links(options_.root);
        Target target{plan, route_dropin_location(plan.private_interface.name,
                                                  plan.private_interface.ifindex,
                                                  network_files(networkd_links))};
        if (target != target_)
                apply(target);
        check(networkd_links);
}

void Manager::apply(const Target& target) {
        ++generation_;
        target_verified_ = false;
        undone_.clear();
        networkd_reloading_ = false;
        networkd_overdue_ = false;
        networkd_deadline_.reset();
        const std::optional<Target> previous = std::exchange(target_, target);
        const NatPlan& plan = target.plan;
        enter(ManagerState::Configuring, "Configuring " + summarize(plan));
        spdlog::info("Configuring {} (private {} is {}, public {} is {})", summarize(plan),
                     plan.private_interface.selector, plan.private_interface.name,
                     plan.public_interface.selector, plan.public_interface.name);

        std::vector<std::string> errors;
        if (auto s = committer_.apply_forwarding(plan); !s.ok())
                errors.push_back(s.error());
        // Replacing the table resets its counters: only when it changes.
        if (!previous || previous->plan.ruleset != plan.ruleset)
                if (auto s = committer_.apply_ruleset(plan); !s.ok())
                        errors.push_back(s.error());

        bool dropin_changed = false;
        const std::vector<PersistedFile> files{
                sysctl_file(), {target.dropin.path, render_route_dropin(plan.routes)}};
        files_.clear();
        for (const auto& f : files)
                files_.push_back((options_.root / f.path.relative_path()).string());
        auto synced = registry_.sync(files);
        if (!synced.ok()) {
                errors.push_back(synced.error());
        } else {
                for (const auto& p : synced.value().written) {
                        spdlog::info("Wrote {}", (options_.root / p.relative_path()).string());
                        dropin_changed = dropin_changed || p == target.dropin.path;
                }
                for (const auto& p : synced.value().removed) {
                        spdlog::info("Removed {}, which natd no longer needs",
                                     (options_.root / p.relative_path()).string());
                        dropin_changed = dropin_changed || p != kSysctlFile;
                }
        }

        if (target.dropin.used_by_networkd && ensure_bus()) {
                route_owner_ = RouteOwner::Networkd;
                if (dropin_changed) {
                        spdlog::info("Asking systemd-networkd to reload");
                        networkd_reloading_ = true;
                        await_networkd(kNetworkdReloadGraceUsec);
                        networkd_->reload([this, generation = generation_](const Status& s) {
                                if (generation != generation_)
                                        return;  // a newer target superseded this call
                                if (!s.ok()) {
                                        spdlog::warn("{}; natd installs the return routes itself",
                                                     s.error());
                                        networkd_overdue_ = true;
                                }
                                schedule_reconcile();
                        });
                }
        } else {
                route_owner_ = RouteOwner::Natd;
                spdlog::info("Installing the return routes over netlink: {}",
                             target.dropin.used_by_networkd
                                     ? "no system bus to reach systemd-networkd"
                                     : "systemd-networkd does not manage " +
                                               plan.private_interface.name);
                if (auto s = committer_.sync_own_routes(plan.routes); !s.ok())
                        errors.push_back(s.error());
        }
        refresh_warnings();
        apply_error_ = errors.empty() ? "" : "Failed: " + join(errors);
        if (!apply_error_.empty())
                fail(apply_error_);
}

void Manager::await_networkd(uint64_t usec) {
        if (networkd_deadline_ || networkd_overdue_)
                return;
        add_timer(
                loop_.get(), networkd_deadline_, usec,
                [](sd_event_source*, uint64_t, void* userdata) {
                        auto* self = static_cast<Manager*>(userdata);
                        self->networkd_deadline_.reset();
                        self->networkd_overdue_ = true;
                        self->schedule_reconcile();
                        return 0;
                },
                this);
}

void Manager::check(const std::map<int, NetworkdLink>& networkd_links) {
        if (!target_)
                return;
        if (!apply_error_.empty()) {
                // Verification cannot make up for what was not written.
                fail(apply_error_);
                return;
        }
        if (nft_changed_) {
                nft_changed_ = false;
                refresh_warnings();
        }
        const NatPlan& plan = target_->plan;
        auto v = committer_.verify(plan, route_owner_);

        if (route_owner_ == RouteOwner::Networkd) {
                if (v.routes.empty()) {
                        networkd_reloading_ = false;
                        networkd_overdue_ = false;
                        networkd_deadline_.reset();
                        // networkd's routes are in: natd's own interim ones go.
                        if (v.own_routes > 0)
                                if (auto s = committer_.sync_own_routes({}); !s.ok())
                                        spdlog::warn("{}", s.error());
                } else if (!networkd_overdue_) {
                        // networkd drops a link's routes while it (re)configures
                        // it and adds them back moments later: give it time.
                        auto link = networkd_links.find(plan.private_interface.ifindex);
                        const bool busy = networkd_reloading_ || link == networkd_links.end() ||
                                          link->second.configuring();
                        await_networkd(busy ? kNetworkdReloadGraceUsec : kNetworkdSettleUsec);
                        if (v.forwarding.empty() && v.ruleset.empty()) {
                                verification_ = v;
                                enter(ManagerState::Configuring,
                                      "Configuring: waiting for systemd-networkd to install the "
                                      "return routes");
                                return;
                        }
                } else {
                        // networkd had its chance: natd keeps the routes itself
                        // until networkd installs them.
                        v.routes = v.routes_absent;
                        if (!v.routes.empty() && !target_verified_) {
                                spdlog::warn("systemd-networkd did not install the return routes; "
                                             "natd installs them until it does");
                                if (auto s = committer_.sync_own_routes(plan.routes); !s.ok())
                                        spdlog::error("{}", s.error());
                                v = committer_.verify(plan, RouteOwner::Natd);
                        }
                }
        }

        if (!v.ok() && target_verified_)
                v = repair(plan, v);
        verification_ = v;
        if (v.ok()) {
                undone_.clear();
                report_verified(plan);
                return;
        }
        if (!guard_.suspended_parts().empty()) {
                report_suspended(v);
                return;
        }
        fail("Verification failed: " + join(v.all()));
}

Verification Manager::repair(const NatPlan& plan, const Verification& found) {
        uint64_t now = 0;
        sd_event_now(loop_.get(), CLOCK_MONOTONIC, &now);
        std::vector<std::string> restored;
        auto attempt = [&](const char* part, bool undone, const std::function<Status()>& restore) {
                if (!undone) {
                        undone_.erase(part);
                        return;
                }
                // Only the step from intact to undone counts against the
                // guard: events while a part stays undone are not new undos.
                const bool newly_undone = undone_.insert(part).second;
                if (newly_undone ? !guard_.allow(part, now) : guard_.suspended(part))
                        return;
                if (auto s = restore(); !s.ok())
                        spdlog::error("Could not restore {}: {}", part, s.error());
                else
                        restored.emplace_back(part);
        };
        attempt("forwarding", !found.forwarding.empty(),
                [&] { return committer_.apply_forwarding(plan); });
        attempt("ruleset", !found.ruleset.empty(), [&] { return committer_.apply_ruleset(plan); });
        attempt("routes", !found.routes.empty(),
                [&] { return committer_.sync_own_routes(plan.routes); });
        arm_resume_timer();
        if (restored.empty())
                return found;

        ++repairs_;
        sd_event_now(loop_.get(), CLOCK_REALTIME, &last_repair_usec_);
        spdlog::warn("Found {}; restored {} (repair {})", join(found.all()), join(restored),
                     repairs_);
        // Routes natd restored are natd's until networkd installs its own.
        const bool natd_routes =
                route_owner_ == RouteOwner::Natd || networkd_overdue_ || !found.routes.empty();
        auto after = committer_.verify(plan, natd_routes ? RouteOwner::Natd : RouteOwner::Networkd);
        if (route_owner_ == RouteOwner::Networkd && natd_routes)
                networkd_overdue_ = true;
        return after;
}

void Manager::report_verified(const NatPlan& plan) {
        target_verified_ = true;
        const bool first = !ever_ready_;
        ever_ready_ = true;
        timeout_source_.reset();
        std::string summary = summarize(plan) + ", verified" +
                              (route_owner_ == RouteOwner::Networkd && !networkd_overdue_
                                       ? " (routes by systemd-networkd)"
                                       : "");
        // Applied and verified, but another table drops what natd forwards.
        const ManagerState state = warnings_.empty() ? ManagerState::Ready : ManagerState::Degraded;
        summary = (warnings_.empty() ? "Ready: " : "Degraded: ") + summary +
                  (warnings_.empty() ? "" : "; " + join(warnings_));
        if (state != state_ || summary != status_) {
                if (state == ManagerState::Ready)
                        spdlog::info("{}", summary);
                else
                        spdlog::warn("{}", summary);
                enter(state, summary);
                if (first)
                        sd_notify(0, "READY=1");
        }
        if (options_.once)
                finish(kExitSuccess);
}

void Manager::report_suspended(const Verification& v) {
        const std::string who =
                last_foreign_nft_ ? " (last nftables change by " + last_foreign_nft_->process +
                                            ", pid " + std::to_string(last_foreign_nft_->pid) + ")"
                                  : "";
        std::vector<std::string> what;
        for (const auto& part : guard_.suspended_parts()) {
                if (part == "ruleset")
                        what.push_back("table ip natd keeps being removed or altered" + who);
                else if (part == "routes")
                        what.emplace_back("the return routes keep being removed");
                else
                        what.emplace_back("net.ipv4.ip_forward keeps being turned off");
        }
        const std::string status =
                "Degraded: " + join(what) +
                "; natd stopped repairing and resumes once left alone for 60s (" + join(v.all()) +
                ")";
        if (status != status_)
                spdlog::error("{}", status);
        enter(ManagerState::Degraded, status);
}

void Manager::refresh_warnings() {
        auto blockers = committer_.find_blockers();
        if (!blockers.ok()) {
                spdlog::warn("{}", blockers.error());
                return;
        }
        if (blockers.value() == warnings_)
                return;
        for (const auto& b : blockers.value())
                spdlog::warn("Foreign rule: {}; natd does not edit other tables", b);
        // report_verified() puts them in the status, and judges the state.
        warnings_ = std::move(blockers).value();
}

void Manager::arm_resume_timer() {
        const auto next = guard_.next_resume_usec();
        if (!next) {
                resume_source_.reset();
                return;
        }
        sd_event_source* t = nullptr;
        if (sd_event_add_time(
                    loop_.get(), &t, CLOCK_MONOTONIC, *next, 1000,
                    [](sd_event_source*, uint64_t now, void* userdata) {
                            auto* self = static_cast<Manager*>(userdata);
                            for (const auto& part : self->guard_.resume_quiet(now))
                                    spdlog::info("Left alone long enough: natd repairs {} again",
                                                 part);
                            self->arm_resume_timer();
                            self->schedule_reconcile();
                            return 0;
                    },
                    this) >= 0)
                resume_source_.reset(t);
}

void Manager::on_wait_timeout() {
        if (ever_ready_)
                return;
        spdlog::error("Timed out after WaitTimeoutSec={}: {}",
                      format_timespan(config_.wait_timeout), status_);
        enter(ManagerState::Failed, "Timed out: " + status_);
        finish(kExitFailure);
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
                spdlog::info("Reload: configuration unchanged");
        } else {
                spdlog::info("Reload: configuration changed");
                config_ = std::move(load.config);
                schedule_reconcile();
        }
        // Back to whatever natd was before the reload: ready only if it was.
        sd_notify(0, ever_ready_ ? "READY=1" : "STATUS=Reloaded");
        return result;
}

Status Manager::reapply() {
        if (!target_)
                return Error{"Nothing to apply yet: " + status_};
        spdlog::info("Reapplying on request");
        const Target target = *target_;
        target_.reset();  // apply() then replaces everything, the table included
        apply(target);
        check(read_networkd_links(options_.root));
        if (!apply_error_.empty())
                return Error{apply_error_};
        return Ok{};
}

Status Manager::teardown() {
        spdlog::info("Tearing down on request; natd exits afterwards");
        std::vector<std::string> removed;
        Status s = natd::teardown(committer_, options_.root, bus_.get(), removed);
        for (const auto& r : removed)
                spdlog::info("Removed {}", r);
        target_.reset();
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
        if (target_)
                for (auto& c : counters)
                        for (const auto& r : target_->plan.ruleset.rules)
                                if (c.role == rule_role_name(r.role))
                                        c.rule = describe(r);
        return counters;
}

void Manager::refresh_status() {
        DaemonStatus s;
        s.reachable = true;
        s.state = manager_state_name(state_);
        s.state_since_usec = state_since_usec_;
        s.status_text = status_;
        s.waiting_for = state_ == ManagerState::Waiting ? waiting_for_ : std::vector<std::string>{};
        const auto links = watcher_->table().links();
        auto describe_interface = [&](const Selector& selector) {
                InterfaceStatus i;
                i.selector = selector.str();
                const Resolution r = resolve(selector, links);
                if (r.link == nullptr)
                        return i;
                i.name = r.link->name;
                i.ifindex = r.link->ifindex;
                i.mac = r.link->mac ? r.link->mac->str() : "";
                i.operstate = r.link->operstate;
                for (const auto& a : r.link->ipv4)
                        i.addresses.push_back(a.str());
                return i;
        };
        s.public_interface = describe_interface(config_.public_selector);
        s.private_interface = describe_interface(config_.private_selector);
        if (verification_) {
                s.forwarding = verification_->forwarding_enabled;
                s.table_present = verification_->table_present;
                s.table_verified = verification_->table_present && verification_->ruleset.empty();
        }
        if (target_) {
                const auto& routes = target_->plan.routes;
                for (size_t i = 0; i < routes.size(); ++i)
                        s.routes.push_back({routes[i].destination.str(), routes[i].gateway.str(),
                                            verification_ &&
                                                    i < verification_->route_present.size() &&
                                                    verification_->route_present[i]});
                s.route_owner = route_owner_ == RouteOwner::Networkd && !networkd_overdue_
                                        ? "networkd"
                                        : "natd";
        }
        s.files = files_;
        s.repairs = repairs_;
        s.last_repair_usec = last_repair_usec_;
        s.warnings = warnings_;
        if (s == snapshot_)
                return;
        snapshot_ = std::move(s);
        if (api_)
                api_->publish(snapshot_);
}

}  // namespace natd
