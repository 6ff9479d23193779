#include "manager.hpp"

#include <csignal>
#include <cstring>

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

namespace natd {

const char* manager_state_name(ManagerState state) {
        switch (state) {
        case ManagerState::Waiting:
                return "waiting";
        case ManagerState::Configuring:
                return "configuring";
        case ManagerState::Ready:
                return "ready";
        case ManagerState::Failed:
                return "failed";
        }
        return "unknown";
}

Result<std::unique_ptr<Manager>> Manager::create(Config config, ManagerOptions options) {
        auto committer = KernelCommitter::open();
        if (!committer.ok())
                return Error{committer.error()};
        std::unique_ptr<Manager> m(
                new Manager(std::move(config), std::move(options), std::move(committer).value()));
        if (auto s = m->setup(); !s.ok())
                return Error{s.error()};
        return m;
}

Manager::~Manager() = default;

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
                if (int r = sd_event_add_signal(loop, &s, sig, on_signal, this); r < 0)
                        return errno_error("watch signal " + std::to_string(sig), -r);
                signal_sources_[i++].reset(s);
        }

        // Event bursts (a link appearing brings several messages) coalesce
        // into one reconciliation per loop iteration.
        sd_event_source* defer = nullptr;
        if (int r = sd_event_add_defer(loop, &defer, on_defer, this); r < 0)
                return errno_error("add reconcile source", -r);
        reconcile_source_.reset(defer);
        sd_event_source_set_enabled(defer, SD_EVENT_OFF);

        if (config_.wait_timeout) {
                sd_event_source* t = nullptr;
                const auto usec = static_cast<uint64_t>(config_.wait_timeout->count());
                // 1 ms accuracy: the default coalesces timers by up to 250 ms.
                if (int r = sd_event_add_time_relative(loop, &t, CLOCK_MONOTONIC, usec, 1000,
                                                       on_timer, this);
                    r < 0)
                        return errno_error("arm the wait timeout", -r);
                timeout_source_.reset(t);
        }

        // The watchdog, when systemd asks for one, is sd-event's business.
        sd_event_set_watchdog(loop, true);

        auto watcher = LinkWatcher::start(loop, [this] { schedule_reconcile(); });
        if (!watcher.ok())
                return Error{watcher.error()};
        watcher_ = std::move(watcher).value();
        schedule_reconcile();
        return Ok{};
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
        state_ = state;
        if (status == status_)
                return;
        status_ = status;
        sd_notifyf(0, "STATUS=%s", status.c_str());
}

void Manager::finish(int exit_code) {
        sd_event_exit(loop_.get(), exit_code);
}

void Manager::reconcile() {
        const PlanOutcome outcome = make_plan(config_, watcher_->table().links());

        if (const auto* waiting = std::get_if<Waiting>(&outcome)) {
                const std::string status = "Waiting for " + waiting->str();
                if (status != status_)
                        spdlog::info("{}", status);
                if (applied_)
                        spdlog::warn("The NAT interfaces changed; rules for {} -> {} stay in place "
                                     "until they can be planned again",
                                     applied_->private_interface.name,
                                     applied_->public_interface.name);
                applied_.reset();
                enter(ManagerState::Waiting, status);
                return;
        }

        const auto& plan = std::get<NatPlan>(outcome);
        if (applied_ == plan || failed_ == plan)
                return;  // nothing new to do; a failed plan is retried on change or SIGHUP

        enter(ManagerState::Configuring, "Configuring " + summarize(plan));
        spdlog::info("Configuring {} (private {} is {}, public {} is {})", summarize(plan),
                     plan.private_interface.selector, plan.private_interface.name,
                     plan.public_interface.selector, plan.public_interface.name);

        if (auto s = committer_.apply(plan); !s.ok()) {
                spdlog::error("{}", s.error());
                failed_ = plan;
                enter(ManagerState::Failed, "Failed: " + s.error());
                if (options_.once)
                        finish(kExitFailure);
                return;
        }
        const auto diffs = committer_.verify(plan);
        if (!diffs.empty()) {
                std::string joined;
                for (const auto& d : diffs) {
                        spdlog::error("Verification failed: {}", d);
                        joined += (joined.empty() ? "" : "; ") + d;
                }
                failed_ = plan;
                enter(ManagerState::Failed, "Verification failed: " + joined);
                if (options_.once)
                        finish(kExitFailure);
                return;
        }

        applied_ = plan;
        failed_.reset();
        ever_ready_ = true;
        timeout_source_.reset();
        const std::string summary = "Ready: " + summarize(plan) + ", verified";
        spdlog::info("{}", summary);
        enter(ManagerState::Ready, summary);
        sd_notify(0, "READY=1");
        if (options_.once)
                finish(kExitSuccess);
}

void Manager::on_wait_timeout() {
        if (ever_ready_)
                return;
        const std::string why =
                state_ == ManagerState::Waiting ? status_ : "no verified configuration: " + status_;
        spdlog::error("Timed out after WaitTimeoutSec={}: {}",
                      format_timespan(config_.wait_timeout), why);
        enter(ManagerState::Failed, "Timed out: " + why);
        finish(kExitFailure);
}

void Manager::reload() {
        sd_notify(0, "RELOADING=1");
        ConfigLoad load = load_config(options_.config_location);
        if (!load.ok()) {
                for (const auto& e : load.errors)
                        spdlog::error("{}", e.str());
                spdlog::error(
                        "Reload refused: the configuration has errors; keeping the running one");
        } else if (load.config == config_) {
                spdlog::info("Reload: configuration unchanged");
        } else {
                spdlog::info("Reload: configuration changed");
                config_ = std::move(load.config);
                failed_.reset();
                schedule_reconcile();
        }
        // Back to whatever natd was before the reload: ready only if it was.
        sd_notify(0, ever_ready_ ? "READY=1" : "STATUS=Reloaded");
}

int Manager::on_defer(sd_event_source*, void* userdata) {
        static_cast<Manager*>(userdata)->reconcile();
        return 0;
}

int Manager::on_timer(sd_event_source*, uint64_t, void* userdata) {
        static_cast<Manager*>(userdata)->on_wait_timeout();
        return 0;
}

int Manager::on_signal(sd_event_source*, const signalfd_siginfo* si, void* userdata) {
        auto* self = static_cast<Manager*>(userdata);
        if (si->ssi_signo == SIGHUP) {
                self->reload();
                return 0;
        }
        spdlog::info("Received {}, exiting; the NAT stays in place",
                     si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        self->finish(kExitSuccess);
        return 0;
}

}  // namespace natd
