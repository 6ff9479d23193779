#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "atomic-file.hpp"
#include "read-file.hpp"
#include "scratch-dir.hpp"

namespace fs = std::filesystem;

namespace {

using natd::test::ScratchDir;

// Which system call of the writer fails, and how.
enum class Failing { Open, Write, ShortWriteThenEio, Fsync, Close, Rename, DirectoryFsync };
Failing g_failing = Failing::Open;  // test-only switch for the stubs below
int g_fsync_calls = 0;
int g_open_calls = 0;

int stub_openat(int dir_fd, const char* name, int flags, mode_t mode) {
        ++g_open_calls;
        if (g_failing == Failing::Open) {
                errno = EACCES;
                return -1;
        }
        return ::openat(dir_fd, name, flags, mode);
}
ssize_t stub_write(int fd, const void* buf, size_t n) {
        if (g_failing == Failing::Write) {
                errno = ENOSPC;
                return -1;
        }
        if (g_failing == Failing::ShortWriteThenEio) {
                // Half the content reaches the temporary file, then the disk fails:
                // the shape of a crash in the middle of a write.
                static bool wrote_half = false;
                if (!wrote_half) {
                        wrote_half = true;
                        return ::write(fd, buf, n / 2);
                }
                wrote_half = false;
                errno = EIO;
                return -1;
        }
        return ::write(fd, buf, n);
}
int stub_fsync(int fd) {
        ++g_fsync_calls;
        if (g_failing == Failing::Fsync && g_fsync_calls == 1) {
                errno = EIO;
                return -1;
        }
        if (g_failing == Failing::DirectoryFsync && g_fsync_calls == 2) {
                errno = EIO;
                return -1;
        }
        return ::fsync(fd);
}
int stub_close(int fd) {
        const int r = ::close(fd);
        if (g_failing == Failing::Close) {
                errno = EIO;
                return -1;
        }
        return r;
}
int stub_renameat(int from_dir, const char* from, int to_dir, const char* to) {
        if (g_failing == Failing::Rename) {
                errno = EXDEV;
                return -1;
        }
        return ::renameat(from_dir, from, to_dir, to);
}

const natd::FileOps kStubs{stub_openat, stub_write,    stub_fsync,
                           stub_close,  stub_renameat, ::unlinkat};

}  // namespace

TEST_CASE("An atomic write creates directories and the file, once", "[atomic-file]") {
        ScratchDir dir;
        const auto path = dir.path / "etc/systemd/network/70-ens6.network.d/natd.conf";
        auto first = natd::write_file_atomically(path, "[Route]\n");
        REQUIRE(first.ok());
        CHECK(first.value() == natd::WriteOutcome::Written);
        CHECK(natd::read_file(path, 1024).value() == "[Route]\n");
        CHECK((fs::status(path).permissions() & fs::perms::others_read) != fs::perms::none);

        // Same content: not rewritten (networkd would reconfigure the link).
        const auto mtime = fs::last_write_time(path);
        auto second = natd::write_file_atomically(path, "[Route]\n");
        REQUIRE(second.ok());
        CHECK(second.value() == natd::WriteOutcome::Unchanged);
        CHECK(fs::last_write_time(path) == mtime);

        auto third = natd::write_file_atomically(path, "[Route]\nGatewayOnLink=yes\n");
        REQUIRE(third.ok());
        CHECK(third.value() == natd::WriteOutcome::Written);
        CHECK(natd::read_file(path, 1024).value() == "[Route]\nGatewayOnLink=yes\n");
        CHECK(dir.entries(path.parent_path()) == 1);  // no temporary file left
}

TEST_CASE("A failure at any step leaves the old file whole and no temporary file",
          "[atomic-file]") {
        const auto failing = GENERATE(Failing::Open, Failing::Write, Failing::ShortWriteThenEio,
                                      Failing::Fsync, Failing::Close, Failing::Rename);
        ScratchDir dir;
        const auto path = dir.path / "natd.conf";
        REQUIRE(natd::write_file_atomically(path, "old content\n").ok());

        g_failing = failing;
        g_fsync_calls = 0;
        g_open_calls = 0;
        auto r = natd::write_file_atomically(path, std::string(4096, 'n'), 0644, kStubs);
        INFO("failing step " << static_cast<int>(failing));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().rfind("Could not ", 0) == 0);
        CHECK(natd::read_file(path, 1024).value() == "old content\n");
        CHECK(dir.entries(dir.path) == 1);
}

TEST_CASE("A failed directory sync reports an error after the rename", "[atomic-file]") {
        ScratchDir dir;
        const auto path = dir.path / "natd.conf";
        g_failing = Failing::DirectoryFsync;
        g_fsync_calls = 0;
        auto r = natd::write_file_atomically(path, "new\n", 0644, kStubs);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().find("sync directory") != std::string::npos);
        // The rename happened: the content is whole, only its durability is unknown.
        CHECK(natd::read_file(path, 1024).value() == "new\n");
        CHECK(dir.entries(dir.path) == 1);
}

TEST_CASE("Removing a file and an empty directory works relative to the directory",
          "[atomic-file]") {
        ScratchDir dir;
        const auto ours = dir.path / "70-ens6.network.d/natd.conf";
        const auto theirs = dir.path / "70-ens7.network.d/eni.conf";
        REQUIRE(natd::write_file_atomically(ours, "x").ok());
        REQUIRE(natd::write_file_atomically(theirs, "y").ok());
        auto top = natd::DirFd::open(dir.path);
        REQUIRE(top.ok());

        auto ens6 = top.value().open_below("70-ens6.network.d", natd::Missing::Fail);
        REQUIRE(ens6.ok());
        REQUIRE(natd::remove_file(ens6.value(), "natd.conf").ok());
        REQUIRE(top.value().remove_if_empty("70-ens6.network.d").ok());
        CHECK_FALSE(fs::exists(ours.parent_path()));
        // A directory with other files stays, and so do they.
        REQUIRE(top.value().remove_if_empty("70-ens7.network.d").ok());
        CHECK(fs::exists(theirs));
        CHECK(natd::remove_file(top.value(), "missing.conf").ok());
        CHECK(top.value().remove_if_empty("missing.d").ok());
}

TEST_CASE("Files and directories get their modes whatever the umask", "[atomic-file]") {
        ScratchDir dir;
        const mode_t saved = ::umask(0);
        auto written = natd::write_file_atomically(dir.path / "a/b/natd.conf", "x\n");
        auto secret = natd::write_file_atomically(dir.path / "a/files", "y\n", 0600);
        ::umask(saved);
        REQUIRE(written.ok());
        REQUIRE(secret.ok());
        auto mode = [](const fs::path& p) { return fs::status(p).permissions(); };
        CHECK(mode(dir.path / "a") == static_cast<fs::perms>(0755));
        CHECK(mode(dir.path / "a/b") == static_cast<fs::perms>(0755));
        CHECK(mode(dir.path / "a/b/natd.conf") == static_cast<fs::perms>(0644));
        CHECK(mode(dir.path / "a/files") == static_cast<fs::perms>(0600));
}

TEST_CASE("An unchanged file gets its mode back", "[atomic-file]") {
        ScratchDir dir;
        const auto path = dir.path / "natd.conf";
        REQUIRE(natd::write_file_atomically(path, "x\n").ok());
        fs::permissions(path, static_cast<fs::perms>(0666));
        auto again = natd::write_file_atomically(path, "x\n");
        REQUIRE(again.ok());
        CHECK(again.value() == natd::WriteOutcome::Unchanged);
        CHECK(fs::status(path).permissions() == static_cast<fs::perms>(0644));
}
