#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "dir-fd.hpp"
#include "scratch-dir.hpp"

namespace fs = std::filesystem;
using natd::DirFd;
using natd::Missing;

TEST_CASE("A directory below is reached without following symlinks", "[dir-fd]") {
        natd::test::ScratchDir scratch;
        fs::create_directories(scratch.path / "a/b");
        fs::create_directories(scratch.path / "target");
        fs::create_directory_symlink(scratch.path / "target", scratch.path / "a/link");
        std::ofstream(scratch.path / "a/file") << "x";
        fs::create_symlink(scratch.path / "a/file", scratch.path / "a/file-link");
        auto top = DirFd::open(scratch.path);
        REQUIRE(top.ok());

        auto b = top.value().open_below("a/b", Missing::Fail);
        REQUIRE(b.ok());
        CHECK(b.value().path() == scratch.path / "a/b");
        CHECK(top.value().open_below("a/./b/", Missing::Fail).ok());

        for (const char* link : {"a/link", "a/file-link"}) {
                INFO(link);
                auto r = top.value().open_below(fs::path(link) / "c", Missing::Create);
                REQUIRE_FALSE(r.ok());
                CHECK(r.error() == (scratch.path / link).string() +
                                           ": is a symbolic link, not writing through it");
                CHECK(r.failure().is(ELOOP));
        }
        CHECK(natd::test::ScratchDir::entries(scratch.path / "target") == 0);

        auto file = top.value().open_below("a/file/c", Missing::Create);
        REQUIRE_FALSE(file.ok());
        CHECK(file.error() == (scratch.path / "a/file").string() + ": not a directory");

        auto missing = top.value().open_below("a/missing/c", Missing::Fail);
        REQUIRE_FALSE(missing.ok());
        CHECK(missing.failure().is(ENOENT));
        CHECK_FALSE(fs::exists(scratch.path / "a/missing"));

        for (const char* bad : {"a/../a", "..", "/etc"}) {
                INFO(bad);
                auto r = top.value().open_below(bad, Missing::Create);
                REQUIRE_FALSE(r.ok());
                CHECK(r.failure().is(EINVAL));
        }

        auto created = top.value().open_below("x/y", Missing::Create);
        REQUIRE(created.ok());
        CHECK(fs::is_directory(scratch.path / "x/y"));
        REQUIRE(top.value().remove_if_empty("a").ok());  // not empty: stays
        CHECK(fs::exists(scratch.path / "a"));
        REQUIRE(created.value().remove_if_empty("missing").ok());
}
