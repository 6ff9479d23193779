// The daemon's heart: one sd-event loop that watches links, plans, applies,
// verifies and tells systemd (sd_notify) where it stands.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config.hpp"
#include "handles.hpp"
#include "kernel-committer.hpp"
#include "link-watcher.hpp"
#include "plan.hpp"
#include "result.hpp"

namespace natd {

enum class ManagerState { Waiting, Configuring, Ready, Failed };
const char* manager_state_name(ManagerState state);

struct ManagerOptions {
        ConfigLocation config_location;  // re-read on SIGHUP
        // Exit 0 once applied and verified; exit 1 on failure or timeout.
        bool once = false;
};

// Process exit codes, documented in natd(8).
inline constexpr int kExitSuccess = 0;
inline constexpr int kExitFailure = 1;  // timeout, apply or verification failure
inline constexpr int kExitUsage = 2;    // bad arguments or configuration

class Manager {
public:
        static Result<std::unique_ptr<Manager>> create(Config config, ManagerOptions options);
        ~Manager();
        Manager(const Manager&) = delete;
        Manager& operator=(const Manager&) = delete;

        // Runs until SIGTERM/SIGINT (exit 0), --once completion, or a fatal
        // error. Returns the process exit code. SIGTERM leaves the NAT in
        // place: stopping natd never cuts traffic.
        int run();

private:
        Manager(Config config, ManagerOptions options, KernelCommitter committer)
            : config_(std::move(config)), options_(std::move(options)),
              committer_(std::move(committer)) {}

        Status setup();
        void schedule_reconcile();
        void reconcile();
        void on_wait_timeout();
        void reload();
        void enter(ManagerState state, const std::string& status);
        void finish(int exit_code);

        static int on_defer(sd_event_source* s, void* userdata);
        static int on_timer(sd_event_source* s, uint64_t usec, void* userdata);
        static int on_signal(sd_event_source* s, const signalfd_siginfo* si, void* userdata);

        Config config_;
        ManagerOptions options_;
        KernelCommitter committer_;
        SdEventPtr loop_;
        SdEventSourcePtr reconcile_source_;
        SdEventSourcePtr timeout_source_;
        SdEventSourcePtr signal_sources_[3];
        std::unique_ptr<LinkWatcher> watcher_;

        ManagerState state_ = ManagerState::Waiting;
        std::string status_;
        std::optional<NatPlan> applied_;  // last plan applied and verified
        std::optional<NatPlan> failed_;   // last plan whose apply or verify failed
        bool ever_ready_ = false;
};

}  // namespace natd
