#include <filesystem>
#include <fstream>
#include <iterator>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "atomic-file.hpp"
#include "file-registry.hpp"
#include "scratch-dir.hpp"

namespace fs = std::filesystem;

namespace {

using ScratchRoot = natd::test::ScratchDir;

const natd::PersistedFile kSysctl = natd::sysctl_file(natd::plan_conntrack(natd::Config{}, 0));

natd::PersistedFile dropin(const char* ifname, const char* content = "[Route]\n") {
        return {fs::path("/etc/systemd/network") / (std::string("70-") + ifname + ".network.d") /
                        "natd.conf",
                content};
}

}  // namespace

TEST_CASE("The modprobe.d file: written, removed when no longer planned, never its directory",
          "[registry]") {
        ScratchRoot root;
        natd::FileRegistry registry(root.path);
        const auto modprobe =
                natd::modprobe_file(natd::plan_conntrack(natd::Config{}, uint64_t{1} << 32, true));
        REQUIRE(modprobe);
        fs::create_directories(root.at("/etc/modprobe.d"));
        REQUIRE(natd::write_file_atomically(root.at("/etc/modprobe.d/local.conf"), "operator's\n")
                        .ok());
        auto first = registry.sync({kSysctl, *modprobe, dropin("ens6")});
        REQUIRE(first.ok());
        CHECK(first.value().written.size() == 3);
        CHECK(registry.holds(*modprobe));
        CHECK(registry.recorded().contains("/etc/modprobe.d/natd.conf"));
        // No longer planned (e.g. the same disk booted a kernel with
        // nf_conntrack built in): removed; the directory and others' files stay.
        auto later = registry.sync({kSysctl, dropin("ens6")});
        REQUIRE(later.ok());
        CHECK(later.value().removed == std::vector<fs::path>{"/etc/modprobe.d/natd.conf"});
        CHECK_FALSE(fs::exists(root.at("/etc/modprobe.d/natd.conf")));
        CHECK(fs::exists(root.at("/etc/modprobe.d/local.conf")));
        // Teardown removes it too.
        REQUIRE(registry.sync({kSysctl, *modprobe, dropin("ens6")}).ok());
        auto gone = registry.remove_all();
        REQUIRE(gone.ok());
        CHECK(gone.value().removed.size() == 3);
        CHECK_FALSE(fs::exists(root.at("/etc/modprobe.d/natd.conf")));
        CHECK(fs::exists(root.at("/etc/modprobe.d/local.conf")));
}

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

namespace {

void write_plain(const fs::path& path, const std::string& content) {
        fs::create_directories(path.parent_path());
        std::ofstream(path) << content;
}

std::string content_of(const fs::path& path) {
        std::ifstream in(path);
        return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("The registry honours only the paths natd writes", "[registry]") {
        CHECK(natd::is_persisted_file_path("/etc/sysctl.d/90-natd.conf"));
        CHECK(natd::is_persisted_file_path("/etc/modprobe.d/natd.conf"));
        CHECK(natd::is_persisted_file_path("/etc/systemd/network/70-ens7.network.d/natd.conf"));
        CHECK(natd::is_persisted_file_path("/etc/systemd/network/..x.network.d/natd.conf"));
        for (const char* bad : {"/../outside-victim", "/etc/passwd", "relative", "",
                                "/etc/systemd/network/a/b.network.d/natd.conf",
                                "/etc/systemd/network/...network.d/natd.conf",
                                "/etc/systemd/network/.network.d/natd.conf",
                                "/etc/systemd/network/70-ens7.network.d/other.conf",
                                "/etc/systemd/network/70-ens7.network.d/../../../passwd",
                                "/etc/sysctl.d/../passwd", "//etc/sysctl.d/90-natd.conf"}) {
                INFO(bad);
                CHECK_FALSE(natd::is_persisted_file_path(bad));
        }
}

TEST_CASE("A poisoned registry deletes nothing it does not own", "[registry]") {
        natd::test::ScratchDir scratch;
        const auto root = scratch.path / "root";
        const auto outside = scratch.path / "outside-victim";
        write_plain(outside, "outside\n");
        write_plain(root / "etc/passwd", "root:x:0:0\n");
        write_plain(root / "relative", "relative\n");
        write_plain(root / "etc/systemd/network/a/b.network.d/natd.conf", "nested\n");
        natd::FileRegistry registry(root);
        REQUIRE(registry.sync({kSysctl, dropin("ens6")}).ok());
        const auto registry_file = root / "var/lib/natd/files";
        write_plain(registry_file, "# header\n"
                                   "/../outside-victim\n"
                                   "/etc/passwd\n"
                                   "relative\n"
                                   "/etc/systemd/network/a/b.network.d/natd.conf\n"
                                   "/etc/sysctl.d/90-natd.conf\n"
                                   "/etc/systemd/network/70-ens6.network.d/natd.conf\n");

        const auto record = registry.read_record();
        CHECK(record.paths ==
              std::set<fs::path>{"/etc/sysctl.d/90-natd.conf",
                                 "/etc/systemd/network/70-ens6.network.d/natd.conf"});
        REQUIRE(record.rejected.size() == 4);
        CHECK(record.rejected[0] == registry_file.string() +
                                            ":2: ignoring \"/../outside-victim\": not a file natd "
                                            "writes");
        CHECK(record.rejected[3].starts_with(registry_file.string() + ":5: "));
        // Otherwise in sync: the bad lines alone make the next sync drop them.
        CHECK_FALSE(registry.in_sync({kSysctl, dropin("ens6")}));

        SECTION("a plain sync keeps the valid lines and drops the bad ones") {
                auto r = registry.sync({kSysctl, dropin("ens7")});
                REQUIRE(r.ok());
                CHECK(r.value().removed ==
                      std::vector<fs::path>{"/etc/systemd/network/70-ens6.network.d/natd.conf"});
                CHECK(registry.read_record().rejected.empty());
                CHECK(registry.in_sync({kSysctl, dropin("ens7")}));
        }
        SECTION("teardown removes natd's files only") {
                auto r = registry.remove_all();
                REQUIRE(r.ok());
                CHECK(r.value().removed.size() == 2);
                CHECK_FALSE(fs::exists(root / "etc/sysctl.d/90-natd.conf"));
                CHECK_FALSE(fs::exists(root / "var/lib/natd"));
        }
        CHECK(content_of(outside) == "outside\n");
        CHECK(content_of(root / "etc/passwd") == "root:x:0:0\n");
        CHECK(content_of(root / "relative") == "relative\n");
        CHECK(content_of(root / "etc/systemd/network/a/b.network.d/natd.conf") == "nested\n");
}

TEST_CASE("A symlink on the way to natd's files is an error naming it", "[registry]") {
        natd::test::ScratchDir scratch;
        const auto root = scratch.path / "root";
        const auto target = scratch.path / "target";
        fs::create_directories(root);
        fs::create_directories(target);
        write_plain(target / "natd.conf", "victim\n");

        const auto [link, expected] = GENERATE(table<const char*, const char*>({
                {"etc/systemd/network/70-ens6.network.d", "etc/systemd/network/70-ens6.network.d"},
                {"etc/systemd/network", "etc/systemd/network"},
                {"etc", "etc"},
        }));
        INFO(link);
        fs::create_directories((root / link).parent_path());
        fs::create_directory_symlink(target, root / link);
        natd::FileRegistry registry(root);
        const std::string message =
                (root / expected).string() + ": is a symbolic link, not writing through it";

        auto written = registry.sync({kSysctl, dropin("ens6", "[Route]\nnew\n")});
        REQUIRE_FALSE(written.ok());
        CHECK(written.error() == message);
        CHECK_FALSE(registry.holds(dropin("ens6", "victim\n")));

        // A record made before the symlink appeared: teardown fails, naming it.
        fs::remove(root / link);
        REQUIRE(registry.sync({kSysctl, dropin("ens6")}).ok());
        fs::remove_all(root / link);
        fs::create_directory_symlink(target, root / link);
        auto removed = registry.remove_all();
        REQUIRE_FALSE(removed.ok());
        CHECK(removed.error().starts_with(message));
        // What could not go stays recorded; what could went.
        CHECK(registry.recorded().contains(dropin("ens6").path));
        if (std::string(link) != "etc")
                CHECK_FALSE(fs::exists(root / "etc/sysctl.d/90-natd.conf"));

        CHECK(fs::is_symlink(root / link));
        CHECK(content_of(target / "natd.conf") == "victim\n");
        CHECK(ScratchRoot::entries(target) == 1);
}

TEST_CASE("natd's directories and files get fixed modes whatever the umask", "[registry]") {
        ScratchRoot root;
        natd::FileRegistry registry(root.path);
        const mode_t saved = ::umask(0);
        auto r = registry.sync({kSysctl, dropin("ens6")});
        ::umask(saved);
        REQUIRE(r.ok());
        auto mode = [&](const char* p) { return fs::status(root.at(p)).permissions(); };
        for (const char* dir : {"/etc", "/etc/sysctl.d", "/etc/systemd/network",
                                "/etc/systemd/network/70-ens6.network.d", "/var/lib/natd"}) {
                INFO(dir);
                CHECK(mode(dir) == static_cast<fs::perms>(0755));
        }
        CHECK(mode("/etc/sysctl.d/90-natd.conf") == static_cast<fs::perms>(0644));
        CHECK(mode("/etc/systemd/network/70-ens6.network.d/natd.conf") ==
              static_cast<fs::perms>(0644));
        CHECK(mode("/var/lib/natd/files") == static_cast<fs::perms>(0600));
}
