#include <filesystem>

#include <catch2/catch.hpp>

#include "atomic-file.hpp"
#include "file-registry.hpp"
#include "scratch-dir.hpp"

namespace fs = std::filesystem;

namespace {

using ScratchRoot = natd::test::ScratchDir;

const natd::PersistedFile kSysctl = natd::sysctl_file();

natd::PersistedFile dropin(const char* ifname, const char* content = "[Route]\n") {
        return {fs::path("/etc/systemd/network") / (std::string("70-") + ifname + ".network.d") /
                        "natd.conf",
                content};
}

}  // namespace

TEST_CASE("The registry writes what is planned and removes what no longer is", "[registry]") {
        ScratchRoot root;
        natd::FileRegistry registry(root.path);

        auto first = registry.sync({kSysctl, dropin("ens6")});
        REQUIRE(first.ok());
        CHECK(first.value().written.size() == 2);
        CHECK(fs::exists(root.at("/etc/sysctl.d/90-natd.conf")));
        CHECK(fs::exists(root.at("/etc/systemd/network/70-ens6.network.d/natd.conf")));
        CHECK(registry.recorded() ==
              std::set<fs::path>{"/etc/sysctl.d/90-natd.conf",
                                 "/etc/systemd/network/70-ens6.network.d/natd.conf"});

        // Nothing changed: nothing written (networkd would reconfigure the link).
        auto again = registry.sync({kSysctl, dropin("ens6")});
        REQUIRE(again.ok());
        CHECK(again.value().written.empty());
        CHECK(again.value().removed.empty());

        // After a reboot the ENI is ens7: the old drop-in and its directory go.
        REQUIRE(natd::write_file_atomically(
                        root.at("/etc/systemd/network/70-ens6.network.d/keep.conf"), "operator's\n")
                        .ok());
        auto renamed = registry.sync({kSysctl, dropin("ens7")});
        REQUIRE(renamed.ok());
        CHECK(renamed.value().written ==
              std::vector<fs::path>{"/etc/systemd/network/70-ens7.network.d/natd.conf"});
        CHECK(renamed.value().removed ==
              std::vector<fs::path>{"/etc/systemd/network/70-ens6.network.d/natd.conf"});
        CHECK_FALSE(fs::exists(root.at("/etc/systemd/network/70-ens6.network.d/natd.conf")));
        // A file natd did not write is never touched, nor its directory.
        CHECK(fs::exists(root.at("/etc/systemd/network/70-ens6.network.d/keep.conf")));
        CHECK(registry.recorded().size() == 2);

        auto gone = registry.remove_all();
        REQUIRE(gone.ok());
        CHECK(gone.value().removed.size() == 2);
        CHECK_FALSE(fs::exists(root.at("/etc/sysctl.d/90-natd.conf")));
        CHECK(fs::exists(root.at("/etc/sysctl.d")));  // the directory is not natd's
        CHECK_FALSE(fs::exists(root.at("/etc/systemd/network/70-ens7.network.d")));
        CHECK_FALSE(fs::exists(root.at("/var/lib/natd/files")));
        CHECK(registry.recorded().empty());
}

TEST_CASE("A crash between writing and recording is repaired by the next sync", "[registry]") {
        ScratchRoot root;
        natd::FileRegistry registry(root.path);
        REQUIRE(registry.sync({kSysctl, dropin("ens6")}).ok());
        // Simulate a crash after the new drop-in was recorded and written but
        // before the old one was removed: the record lists both.
        REQUIRE(natd::write_file_atomically(
                        root.at("/etc/systemd/network/70-ens7.network.d/natd.conf"), "[Route]\n")
                        .ok());
        REQUIRE(natd::write_file_atomically(root.at("/var/lib/natd/files"),
                                            "/etc/sysctl.d/90-natd.conf\n/etc/systemd/network/"
                                            "70-ens6.network.d/natd.conf\n"
                                            "/etc/systemd/network/70-ens7.network.d/natd.conf\n")
                        .ok());
        auto r = registry.sync({kSysctl, dropin("ens7")});
        REQUIRE(r.ok());
        CHECK(r.value().written.empty());
        CHECK(r.value().removed ==
              std::vector<fs::path>{"/etc/systemd/network/70-ens6.network.d/natd.conf"});
        CHECK(registry.recorded().size() == 2);
}

TEST_CASE("Temporary files of a writer killed mid-write are removed", "[registry]") {
        ScratchRoot root;
        natd::FileRegistry registry(root.path);
        REQUIRE(registry.sync({kSysctl, dropin("ens6")}).ok());
        // What SIGKILL between create and rename leaves behind.
        const auto stale_dropin =
                root.at("/etc/systemd/network/70-ens6.network.d/.natd.conf.natd-1f2e");
        const auto stale_record = root.at("/var/lib/natd/.files.natd-3c4d");
        REQUIRE(natd::write_file_atomically(stale_dropin, "[Rou").ok());
        REQUIRE(natd::write_file_atomically(stale_record, "/etc/").ok());

        REQUIRE(registry.sync({kSysctl, dropin("ens7")}).ok());
        CHECK_FALSE(fs::exists(stale_dropin));
        CHECK_FALSE(fs::exists(stale_record));
        // ...so the old drop-in directory could go too.
        CHECK_FALSE(fs::exists(root.at("/etc/systemd/network/70-ens6.network.d")));
}
