// natd-ctl: the operator's command line. Argument parsing and output only;
// the work is in lib/.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <getopt.h>
#include <string>
#include <unistd.h>

#include "config-commands.hpp"
#include "config.hpp"
#include "daemon-status.hpp"
#include "exit-codes.hpp"
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

}  // namespace

int main(int argc, char** argv) {
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
        if (optind + 1 != argc) {
                print_help();
                return natd::kExitUsage;
        }
        const std::string command = argv[optind];
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
