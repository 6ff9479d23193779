// One natd per root: a second holder is refused while the first runs, and
// the lock goes with its holder.
#include <cerrno>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "instance-lock.hpp"
#include "scratch-dir.hpp"

using natd::InstanceLock;
using natd::test::ScratchDir;

TEST_CASE("the instance lock admits one holder per root") {
        ScratchDir root;
        const mode_t old_umask = ::umask(0);
        auto first = InstanceLock::acquire(root.path);
        ::umask(old_umask);
        REQUIRE(first.ok());

        // Created 0755 / 0600 whatever the umask.
        struct stat st {};
        REQUIRE(::stat(root.at("/var/lib/natd").c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0755);
        REQUIRE(::stat(root.at(natd::kLockFile).c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0600);

        auto second = InstanceLock::acquire(root.path);
        REQUIRE_FALSE(second.ok());
        CHECK(second.errno_value() == EWOULDBLOCK);
        CHECK(second.error().find("natd is running") != std::string::npos);
        CHECK(second.error().find(root.at(natd::kLockFile).string()) != std::string::npos);

        ScratchDir other;
        CHECK(InstanceLock::acquire(other.path).ok());  // another root is another natd

        { [[maybe_unused]] auto released = std::move(first).value(); }
        CHECK(InstanceLock::acquire(root.path).ok());
}
