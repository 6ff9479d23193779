#include <cerrno>
#include <csignal>
#include <filesystem>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "atomic-file.hpp"
#include "blocking-guard.hpp"
#include "read-file.hpp"
#include "scratch-dir.hpp"

namespace fs = std::filesystem;
using natd::read_file;
using natd::Symlinks;
using natd::test::BlockingGuard;

namespace {

void write(const fs::path& path, const std::string& text) {
        REQUIRE(natd::write_file_atomically(path, text).ok());
}

}  // namespace

TEST_CASE("read_file reads regular files whole", "[read-file]") {
        const natd::test::ScratchDir tmp;
        const auto path = tmp.path / "a.conf";
        SECTION("text") {
                write(path, "[Routes]\nSubnets=10.0.1.0/24\n");
                CHECK(read_file(path, 1024).value() == "[Routes]\nSubnets=10.0.1.0/24\n");
        }
        SECTION("empty") {
                write(path, "");
                CHECK(read_file(path, 1024).value().empty());
        }
        SECTION("binary, larger than one read") {
                std::string text(20000, '\0');
                for (size_t i = 0; i < text.size(); ++i)
                        text[i] = static_cast<char>(i * 7);
                write(path, text);
                CHECK(read_file(path, text.size()).value() == text);
        }
}

TEST_CASE("read_file refuses what is not a regular file, without blocking", "[read-file]") {
        const natd::test::ScratchDir tmp;
        const BlockingGuard guard;
        SECTION("a FIFO without a writer") {
                const auto path = tmp.path / "natd.conf";
                REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
                const auto r = read_file(path, 1024);
                REQUIRE_FALSE(r.ok());
                CHECK(r.error() == path.string() + ": not a regular file (FIFO)");
                CHECK(r.errno_value() == EBADFD);
        }
        SECTION("a directory") {
                const auto r = read_file(tmp.path, 1024);
                REQUIRE_FALSE(r.ok());
                CHECK(r.error() == tmp.path.string() + ": Is a directory");
                CHECK(r.errno_value() == EISDIR);
        }
        SECTION("a character device") {
                const auto r = read_file("/dev/null", 1024);
                REQUIRE_FALSE(r.ok());
                CHECK(r.error() == "/dev/null: not a regular file (character device)");
                CHECK(r.errno_value() == EBADFD);
        }
        SECTION("a socket") {
                const auto path = tmp.path / "sock";
                const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                REQUIRE(fd >= 0);
                sockaddr_un address{};
                address.sun_family = AF_UNIX;
                path.string().copy(address.sun_path, sizeof address.sun_path - 1);
                const int bound =
                        ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
                ::close(fd);
                REQUIRE(bound == 0);
                // open() itself refuses a socket.
                const auto r = read_file(path, 1024);
                REQUIRE_FALSE(r.ok());
                CHECK(r.error() == path.string() + ": not a regular file (socket)");
                CHECK(r.errno_value() == ENXIO);
        }
}

TEST_CASE("read_file and symlinks", "[read-file]") {
        const natd::test::ScratchDir tmp;
        const auto target = tmp.path / "target.conf";
        const auto link = tmp.path / "link.conf";
        write(target, "content\n");
        fs::create_symlink(target, link);

        SECTION("followed by default, as systemd reads configuration") {
                CHECK(read_file(link, 1024).value() == "content\n");
                CHECK(read_file(link, 1024, Symlinks::Follow).value() == "content\n");
        }
        SECTION("refused when asked") {
                const auto r = read_file(link, 1024, Symlinks::Refuse);
                REQUIRE_FALSE(r.ok());
                CHECK(r.error() == link.string() + ": is a symbolic link");
                CHECK(r.errno_value() == ELOOP);
                // The file itself is fine.
                CHECK(read_file(target, 1024, Symlinks::Refuse).value() == "content\n");
        }
        SECTION("a loop is an error either way") {
                const auto loop = tmp.path / "loop.conf";
                fs::create_symlink("loop.conf", loop);
                for (const auto symlinks : {Symlinks::Follow, Symlinks::Refuse}) {
                        const auto r = read_file(loop, 1024, symlinks);
                        REQUIRE_FALSE(r.ok());
                        CHECK(r.errno_value() == ELOOP);
                        CHECK(r.error().starts_with(loop.string() + ": "));
                }
                CHECK(read_file(loop, 1024).error() ==
                      loop.string() + ": Too many levels of symbolic links");
        }
        SECTION("dangling") {
                const auto dangling = tmp.path / "dangling.conf";
                fs::create_symlink("nowhere", dangling);
                const auto r = read_file(dangling, 1024);
                REQUIRE_FALSE(r.ok());
                CHECK(r.error() == dangling.string() + ": No such file or directory");
                CHECK(r.errno_value() == ENOENT);
        }
        SECTION("to a FIFO: followed, then refused") {
                const auto fifo = tmp.path / "fifo";
                REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
                const auto to_fifo = tmp.path / "to-fifo.conf";
                fs::create_symlink(fifo, to_fifo);
                const BlockingGuard guard;
                CHECK(read_file(to_fifo, 1024).error() ==
                      to_fifo.string() + ": not a regular file (FIFO)");
        }
}

TEST_CASE("read_file refuses files over the limit", "[read-file]") {
        const natd::test::ScratchDir tmp;
        const auto path = tmp.path / "big";
        write(path, std::string(64 * 1024, 'x'));
        CHECK(read_file(path, 64 * 1024).value().size() == 64 * 1024);
        const auto r = read_file(path, 64 * 1024 - 1);
        REQUIRE_FALSE(r.ok());
        CHECK(r.errno_value() == EFBIG);
        CHECK(r.error() == path.string() + ": too large: more than 65535 bytes");
        CHECK(read_file(path, 1024).error() == path.string() + ": too large: more than 1 KiB");
        write(path, std::string(2 * 1024 * 1024, 'x'));
        CHECK(read_file(path, 1024 * 1024).error() ==
              path.string() + ": too large: more than 1 MiB");
        SECTION("a file that reports no size is still bounded") {
                // /proc files report st_size 0 whatever they hold.
                const auto proc = read_file("/proc/self/maps", 16);
                REQUIRE_FALSE(proc.ok());
                CHECK(proc.errno_value() == EFBIG);
        }
}

TEST_CASE("read_file: missing and unreadable files carry the errno", "[read-file]") {
        const natd::test::ScratchDir tmp;
        const auto missing = tmp.path / "missing.conf";
        auto r = read_file(missing, 1024);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error() == missing.string() + ": No such file or directory");
        CHECK(r.errno_value() == ENOENT);

        r = read_file(tmp.path / "not-a-dir" / "x", 1024);
        CHECK(r.errno_value() == ENOENT);

        const auto file = tmp.path / "file";
        write(file, "x");
        r = read_file(file / "x", 1024);
        CHECK(r.errno_value() == ENOTDIR);

        // root reads anything: nothing to test there.
        if (::geteuid() != 0) {
                fs::permissions(file, fs::perms::none);
                r = read_file(file, 1024);
                CHECK(r.error() == file.string() + ": Permission denied");
                CHECK(r.errno_value() == EACCES);
        }
}
