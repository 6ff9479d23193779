// natd: argument parsing and wiring. All logic lives in lib/.
#include <cstdio>
#include <filesystem>
#include <getopt.h>
#include <string>

#include <spdlog/spdlog.h>

#include "config-commands.hpp"
#include "config.hpp"
#include "exit-codes.hpp"
#include "logging.hpp"
#include "manager-client.hpp"
#include "manager.hpp"
#include "teardown.hpp"

namespace {

void print_help() {
        std::printf(
                "Usage: natd [OPTIONS]\n"
                "\n"
                "Turns this EC2 instance into a NAT instance and keeps it one.\n"
                "\n"
                "  -c, --config FILE   configuration file (default /etc/natd/natd.conf;\n"
                "                      drop-ins are read from FILE.d/*.conf)\n"
                "  -r, --root DIR      take every file natd reads or writes under DIR\n"
                "      --check-config  validate the configuration and exit\n"
                "      --dump-config   print the effective configuration, every key with\n"
                "                      the file and line it comes from, and exit\n"
                "      --once          wait, apply, verify, then exit (0 on success)\n"
                "      --teardown      remove natd's table, routes, drop-ins, sysctl file and\n"
                "                      state (for package removal), then exit\n"
                "  -d, --debug         log debug messages\n"
                "  -h, --help          show this help\n"
                "      --version       show the version\n"
                "\n"
                "Exit status: 0 success, 1 failure or timeout, 2 usage or configuration error.\n");
}

}  // namespace

int main(int argc, char** argv) {
        enum { kCheckConfig = 1000, kDumpConfig, kOnce, kTeardown, kVersion };
        const option options[] = {
                {"config", required_argument, nullptr, 'c'},
                {"root", required_argument, nullptr, 'r'},
                {"check-config", no_argument, nullptr, kCheckConfig},
                {"dump-config", no_argument, nullptr, kDumpConfig},
                {"once", no_argument, nullptr, kOnce},
                {"teardown", no_argument, nullptr, kTeardown},
                {"debug", no_argument, nullptr, 'd'},
                {"help", no_argument, nullptr, 'h'},
                {"version", no_argument, nullptr, kVersion},
                {nullptr, 0, nullptr, 0},
        };
        natd::ConfigPaths paths;
        bool check_only = false;
        bool dump = false;
        bool once = false;
        bool teardown = false;
        bool debug = false;
        for (int c; (c = getopt_long(argc, argv, "c:r:dh", options, nullptr)) != -1;) {
                if (paths.take_option(c, optarg))
                        continue;
                switch (c) {
                case kCheckConfig:
                        check_only = true;
                        break;
                case kDumpConfig:
                        dump = true;
                        break;
                case kOnce:
                        once = true;
                        break;
                case kTeardown:
                        teardown = true;
                        break;
                case 'd':
                        debug = true;
                        break;
                case 'h':
                        print_help();
                        return natd::kExitSuccess;
                case kVersion:
                        std::printf("natd %s\n", NATD_VERSION);
                        return natd::kExitSuccess;
                default:
                        return natd::kExitUsage;
                }
        }
        if (optind < argc) {
                std::fprintf(stderr, "natd: unexpected argument '%s'\n", argv[optind]);
                return natd::kExitUsage;
        }

        natd::setup_logging(debug);
        if (teardown)
                return natd::run_teardown(paths.root);
        const natd::ConfigLocation where = paths.location();
        if (check_only)
                return natd::check_config(where, stdout, stderr);
        if (dump)
                return natd::dump_config(where, stdout, stderr);
        auto config = natd::load_valid_config(where, stderr);
        if (!config)
                return natd::kExitUsage;

        auto manager = natd::Manager::create(std::move(*config), {paths.root, where, once});
        if (!manager.ok()) {
                spdlog::critical("{}", manager.error());
                return natd::kExitFailure;
        }
        return manager.value()->run();
}
