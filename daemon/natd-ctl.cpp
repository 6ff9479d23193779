// natd-ctl: the operator's command line. Argument parsing only; the work is
// in lib/.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <getopt.h>
#include <string>

#include "config.hpp"
#include "manager.hpp"

namespace {

void print_help() {
        std::printf("Usage: natd-ctl [OPTIONS] COMMAND\n"
                    "\n"
                    "Commands:\n"
                    "  check-config   validate natd's configuration\n"
                    "\n"
                    "Options:\n"
                    "  -c, --config FILE  configuration file (default /etc/natd/natd.conf)\n"
                    "  -r, --root DIR     read files under DIR\n"
                    "  -h, --help         show this help\n"
                    "      --version      show the version\n");
}

}  // namespace

int main(int argc, char** argv) {
        enum { kVersion = 1000 };
        const option options[] = {
                {"config", required_argument, nullptr, 'c'},
                {"root", required_argument, nullptr, 'r'},
                {"help", no_argument, nullptr, 'h'},
                {"version", no_argument, nullptr, kVersion},
                {nullptr, 0, nullptr, 0},
        };
        std::filesystem::path root = "/";
        std::filesystem::path config_file = "/etc/natd/natd.conf";
        bool config_given = false;
        for (int c; (c = getopt_long(argc, argv, "c:r:h", options, nullptr)) != -1;) {
                switch (c) {
                case 'c':
                        config_file = optarg;
                        config_given = true;
                        break;
                case 'r':
                        root = optarg;
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
        if (command == "check-config") {
                const natd::ConfigLocation where{root / config_file.relative_path(), config_given};
                const natd::ConfigLoad load = natd::load_config(where);
                for (const auto& e : load.errors)
                        std::fprintf(stderr, "%s\n", e.str().c_str());
                if (!load.ok())
                        return natd::kExitUsage;
                std::printf("%s: configuration valid\n", where.main_file.c_str());
                return natd::kExitSuccess;
        }
        std::fprintf(stderr, "natd-ctl: unknown command '%s'\n", command.c_str());
        return natd::kExitUsage;
}
