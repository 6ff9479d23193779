// natd-ctl: the operator's command line. Argument parsing and output only;
// the work is in lib/.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <getopt.h>
#include <string>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "bus-schema.hpp"
#include "config-commands.hpp"
#include "config.hpp"
#include "daemon-status.hpp"
#include "exit-codes.hpp"
#include "ha-state.hpp"
#include "handles.hpp"
#include "logging.hpp"
#include "manager-client.hpp"
#include "teardown.hpp"

namespace {

void print_help() {
        std::printf("Usage: natd-ctl [OPTIONS] COMMAND\n"
                    "\n"
                    "Commands:\n"
                    "  status [--json]  show natd's state (exit 0 ready, 1 not ready,\n"
                    "                   3 natd not running or not reachable)\n"
                    "  reload           re-read the configuration and apply the difference\n"
                    "  reapply          apply the current configuration again, whole\n"
                    "  check-config     validate natd's configuration\n"
                    "  teardown         remove natd's table, routes, drop-ins, sysctl file and\n"
                    "                   state; natd exits (for package removal)\n"
                    "  ha notify STATE  keepalived's notify hook: this NAT's VRRP state is\n"
                    "                   master, backup, fault or stop\n"
                    "  ha handover      the active NAT hands over to its peer; returns once\n"
                    "                   this NAT is a standby (at most 30 s)\n"
                    "\n"
                    "Options:\n"
                    "  -c, --config FILE  configuration file (default /etc/natd/natd.conf)\n"
                    "  -r, --root DIR     read files under DIR\n"
                    "      --json         status as one JSON object\n"
                    "  -h, --help         show this help\n"
                    "      --version      show the version\n");
}

uint64_t now_usec() {
        timespec ts{};
        clock_gettime(CLOCK_REALTIME, &ts);
        return static_cast<uint64_t>(ts.tv_sec) * 1000000 +
               static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

bool use_color() {
        const char* term = std::getenv("TERM");
        return isatty(STDOUT_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr &&
               (term == nullptr || std::strcmp(term, "dumb") != 0);
}

int status(const std::filesystem::path& root, bool json) {
        natd::DaemonStatus s;
        auto bus = natd::open_system_bus();
        auto fetched = bus.ok() ? natd::fetch_status(bus.value().get())
                                : natd::Result<natd::DaemonStatus>(natd::Error{bus.error()});
        if (fetched.ok()) {
                s = std::move(fetched).value();
        } else {
                std::fprintf(stderr, "natd-ctl: %s\n", fetched.error().c_str());
                s = natd::probe_kernel_status(root);
        }
        const std::string out = json ? natd::format_status_json(s) + "\n"
                                     : natd::format_status_text(s, now_usec(), use_color());
        std::fputs(out.c_str(), stdout);
        return natd::status_exit_code(s);
}

int call(natd::Status (*method)(sd_bus*), const char* what) {
        auto bus = natd::open_system_bus();
        if (!bus.ok()) {
                std::fprintf(stderr, "natd-ctl: %s\n", bus.error().c_str());
                return natd::kStatusUnreachable;
        }
        // As for status: 3 when natd is not there to ask.
        if (auto reachable = natd::fetch_status(bus.value().get()); !reachable.ok()) {
                std::fprintf(stderr, "natd-ctl: %s\n", reachable.error().c_str());
                return natd::kStatusUnreachable;
        }
        if (auto s = method(bus.value().get()); !s.ok()) {
                std::fprintf(stderr, "natd-ctl: %s\n", s.error().c_str());
                return natd::kExitFailure;
        }
        std::printf("natd: %s\n", what);
        return natd::kExitSuccess;
}

// keepalived's notify hook: recorded first (a natd that is not listening
// reads it when it starts), then told to natd.
int ha_notify(const std::filesystem::path& root, const std::string& word) {
        const auto state = natd::parse_vrrp_state(word);
        if (!state) {
                std::fprintf(stderr,
                             "natd-ctl: ha notify: unknown state '%s' (master, backup, "
                             "fault, stop)\n",
                             word.c_str());
                return natd::kExitUsage;
        }
        const auto run_directory = root / "run/natd/ha";
        if (auto s = natd::write_vrrp_state(run_directory, *state); !s.ok()) {
                std::fprintf(stderr, "natd-ctl: ha notify %s: %s\n", word.c_str(),
                             s.error().c_str());
                return natd::kExitFailure;
        }
        auto bus = natd::open_system_bus();
        auto told = bus.ok() ? natd::call_ha_notify(bus.value().get(), word)
                             : natd::Status{bus.failure()};
        if (!told.ok()) {
                std::fprintf(stderr,
                             "natd-ctl: ha notify %s: recorded in %s; natd reads it when it "
                             "starts: %s\n",
                             word.c_str(), natd::vrrp_state_path(run_directory).c_str(),
                             told.error().c_str());
                return natd::kExitSuccess;
        }
        std::printf("natd: told %s\n", word.c_str());
        return natd::kExitSuccess;
}

uint64_t monotonic_usec() {
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return static_cast<uint64_t>(ts.tv_sec) * 1000000 +
               static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

// Starts the handover, then follows natd's status until this NAT stands by:
// it looks again whenever natd announces a property change (bounded by 30
// s in all), never on a timer of its own.
int handover() {
        auto bus = natd::open_system_bus();
        if (!bus.ok()) {
                std::fprintf(stderr, "natd-ctl: %s\n", bus.error().c_str());
                return natd::kStatusUnreachable;
        }
        sd_bus* b = bus.value().get();
        // Subscribed before the call, so that no change goes unseen.
        sd_bus_slot* slot = nullptr;
        if (int r = sd_bus_match_signal(
                    b, &slot, natd::kBusName, natd::kObjectPath, "org.freedesktop.DBus.Properties",
                    "PropertiesChanged", [](sd_bus_message*, void*, sd_bus_error*) { return 0; },
                    nullptr);
            r < 0) {
                std::fprintf(stderr, "natd-ctl: cannot follow natd's changes: %s\n",
                             std::strerror(-r));
                return natd::kExitFailure;
        }
        const natd::SdBusSlotPtr match(slot);
        if (auto s = natd::call_ha_handover(b); !s.ok()) {
                std::fprintf(stderr, "natd-ctl: ha handover: %s\n", s.error().c_str());
                return natd::kExitFailure;
        }
        constexpr uint64_t kLimitUsec = 30'000'000;
        const uint64_t deadline = monotonic_usec() + kLimitUsec;
        std::string last;
        for (;;) {
                auto s = natd::fetch_status(b);
                if (!s.ok()) {
                        std::fprintf(stderr, "natd-ctl: %s\n", s.error().c_str());
                        return natd::kStatusUnreachable;
                }
                const auto& ha = s.value().high_availability;
                last = ha.status;
                if (ha.role == "standby" && ha.vrrp == "backup" && !ha.holds_floating_address) {
                        std::printf("natd: handed over to %s: %s\n", ha.peer.c_str(),
                                    ha.status.c_str());
                        return natd::kExitSuccess;
                }
                const uint64_t now = monotonic_usec();
                if (now >= deadline)
                        break;
                // Until natd says something changed (queued signals count).
                if (int r = sd_bus_wait(b, deadline - now); r < 0) {
                        std::fprintf(stderr, "natd-ctl: %s\n", std::strerror(-r));
                        return natd::kStatusUnreachable;
                }
                while (sd_bus_process(b, nullptr) > 0) {
                }
        }
        std::fprintf(stderr, "natd-ctl: ha handover: not a standby after 30 s: %s\n", last.c_str());
        return natd::kExitFailure;
}

int run(int argc, char** argv) {
        enum { kVersion = 1000, kJson };
        const option options[] = {
                {"config", required_argument, nullptr, 'c'},
                {"root", required_argument, nullptr, 'r'},
                {"json", no_argument, nullptr, kJson},
                {"help", no_argument, nullptr, 'h'},
                {"version", no_argument, nullptr, kVersion},
                {nullptr, 0, nullptr, 0},
        };
        natd::ConfigPaths paths;
        bool json = false;
        for (int c; (c = getopt_long(argc, argv, "c:r:h", options, nullptr)) != -1;) {
                if (paths.take_option(c, optarg))
                        continue;
                switch (c) {
                case kJson:
                        json = true;
                        break;
                case 'h':
                        print_help();
                        return natd::kExitSuccess;
                case kVersion:
                        std::printf("natd-ctl %s\n", NATD_VERSION);
                        return natd::kExitSuccess;
                default:
                        return natd::kExitUsage;
                }
        }
        const int words = argc - optind;
        const std::string command = words > 0 ? argv[optind] : "";
        if (command == "ha" && words == 3 && std::strcmp(argv[optind + 1], "notify") == 0) {
                return ha_notify(paths.root, argv[optind + 2]);
        }
        if (command == "ha" && words == 2 && std::strcmp(argv[optind + 1], "handover") == 0)
                return handover();
        if (words != 1) {
                print_help();
                return natd::kExitUsage;
        }
        if (command == "status")
                return status(paths.root, json);
        if (command == "reload")
                return call(natd::call_reload, "configuration reloaded");
        if (command == "reapply")
                return call(natd::call_reapply, "configuration reapplied");
        if (command == "teardown") {
                // Through natd when it runs (it would restore what goes),
                // directly otherwise.
                const int r = call(natd::call_teardown, "torn down; natd exited");
                if (r != natd::kStatusUnreachable)
                        return r;
                natd::setup_logging(false);
                return natd::run_teardown(paths.root);
        }
        if (command == "check-config")
                return natd::check_config(paths.location(), stdout, stderr);
        std::fprintf(stderr, "natd-ctl: unknown command '%s'\n", command.c_str());
        return natd::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
        // Nothing is meant to throw; should the library (std::filesystem,
        // an allocation) do, it is a message and exit 1, not an abort.
        try {
                return run(argc, argv);
        } catch (const std::exception& e) {
                std::fprintf(stderr, "natd-ctl: %s\n", e.what());
                return natd::kExitFailure;
        }
}
