#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <catch2/catch.hpp>

#include "atomic-file.hpp"
#include "blocking-guard.hpp"
#include "networkd-state.hpp"
#include "scratch-dir.hpp"

namespace fs = std::filesystem;
using natd::NetworkdLink;
using natd::read_networkd_links;

namespace {

void write(const fs::path& path, const std::string& text) {
        REQUIRE(natd::write_file_atomically(path, text).ok());
}

}  // namespace

TEST_CASE("parse_networkd_link", "[networkd-state]") {
        CHECK(natd::parse_networkd_link("# This is private data.\nADMIN_STATE=configured\n"
                                        "NETWORK_FILE=/run/systemd/network/70-ens6.network\n") ==
              NetworkdLink{"/run/systemd/network/70-ens6.network", "configured", std::nullopt});
        CHECK_FALSE(natd::parse_networkd_link("ADMIN_STATE=unmanaged\nNETWORK_FILE=\n"));
        CHECK_FALSE(natd::parse_networkd_link(""));
}

TEST_CASE("read_networkd_links reads what it can and reports the rest", "[networkd-state]") {
        const natd::test::ScratchDir tmp;
        const auto dir = tmp.at(natd::kNetworkdLinksDir);
        const natd::test::BlockingGuard guard;

        SECTION("no directory: networkd does not run") {
                std::vector<natd::Error> problems;
                CHECK(read_networkd_links(tmp.path, &problems).empty());
                CHECK(problems.empty());
        }
        SECTION("a FIFO, a symlink, a directory and an oversized file among the links") {
                fs::create_directories(dir);
                write(dir / "2",
                      "ADMIN_STATE=configured\nNETWORK_FILE=/etc/systemd/network/ens5.network\n");
                write(dir / "7", "ADMIN_STATE=configuring\nNETWORK_FILE=/run/systemd/network/"
                                 "70-ens6.network\n");
                REQUIRE(::mkfifo((dir / "3").c_str(), 0600) == 0);
                fs::create_symlink(dir / "2", dir / "4");
                fs::create_directory(dir / "5");
                write(dir / "6", std::string(natd::kNetworkdStateMaxSize + 1, '#'));
                write(dir / "lo", "not a link state file\n");  // not an ifindex: not looked at
                write(dir / "8", "ADMIN_STATE=unmanaged\n");   // not managed: left out
                // ens5's .network file with a drop-in; ens6's is gone.
                write(tmp.at("/etc/systemd/network/ens5.network"), "[Match]\nName=ens5\n");
                write(tmp.at("/run/systemd/network/ens5.network.d/mac.conf"),
                      "[Match]\nMACAddress=0a:00:00:00:00:02\n");

                std::vector<natd::Error> problems;
                const auto links = read_networkd_links(tmp.path, &problems);
                CHECK(links == std::map<int, NetworkdLink>{
                                       {2,
                                        {"/etc/systemd/network/ens5.network", "configured",
                                         natd::NetworkMatch{{"0a:00:00:00:00:02"}, {}, {"ens5"}}}},
                                       {7,
                                        {"/run/systemd/network/70-ens6.network", "configuring",
                                         std::nullopt}},
                               });
                std::vector<std::string> messages;
                std::vector<int> errnos;
                for (const auto& p : problems) {
                        messages.push_back(p.message);
                        errnos.push_back(p.errno_value);
                }
                std::sort(messages.begin(), messages.end());
                CHECK(messages == std::vector<std::string>{
                                          (dir / "3").string() + ": not a regular file (FIFO)",
                                          (dir / "4").string() + ": is a symbolic link",
                                          (dir / "5").string() + ": Is a directory",
                                          (dir / "6").string() + ": too large: more than 64 KiB",
                                  });
                std::sort(errnos.begin(), errnos.end());
                std::vector<int> expected{ELOOP, EISDIR, EFBIG, EBADFD};
                std::sort(expected.begin(), expected.end());
                CHECK(errnos == expected);

                // Without a list to fill the links are the same.
                CHECK(read_networkd_links(tmp.path) == links);
        }
        SECTION("a file where the directory should be") {
                fs::create_directories(dir.parent_path());
                write(dir, "");
                std::vector<natd::Error> problems;
                CHECK(read_networkd_links(tmp.path, &problems).empty());
                REQUIRE(problems.size() == 1);
                CHECK(problems[0].errno_value == ENOTDIR);
                CHECK(problems[0].message.find(dir.string()) != std::string::npos);
        }
}
