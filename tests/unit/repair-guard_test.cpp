#include <catch2/catch.hpp>

#include "repair-guard.hpp"

namespace {
constexpr uint64_t kSecond = 1000 * 1000;
}

TEST_CASE("Repairs are allowed until the same part is undone too often", "[repair]") {
        natd::RepairGuard guard(20, 60 * kSecond);
        for (uint64_t i = 0; i < 20; ++i)
                CHECK(guard.allow("ruleset", i * kSecond));
        CHECK_FALSE(guard.suspended("ruleset"));
        // The 21st undo within 60 s: natd stops fighting.
        CHECK_FALSE(guard.allow("ruleset", 20 * kSecond));
        CHECK(guard.suspended("ruleset"));
        CHECK(guard.suspended_parts() == std::vector<std::string>{"ruleset"});
        // Other parts are judged on their own.
        CHECK(guard.allow("routes", 20 * kSecond));
        CHECK_FALSE(guard.suspended("routes"));
}

TEST_CASE("Undos spread over more than the window never suspend", "[repair]") {
        natd::RepairGuard guard(20, 60 * kSecond);
        for (uint64_t i = 0; i < 100; ++i)
                CHECK(guard.allow("routes", i * 4 * kSecond));  // 15 per minute
        CHECK_FALSE(guard.next_resume_usec());
}

TEST_CASE("A suspension lifts once the part stays quiet for a window", "[repair]") {
        natd::RepairGuard guard(2, 60 * kSecond);
        guard.allow("forwarding", 0);
        guard.allow("forwarding", 1 * kSecond);
        CHECK_FALSE(guard.allow("forwarding", 2 * kSecond));
        REQUIRE(guard.next_resume_usec());
        CHECK(*guard.next_resume_usec() == 62 * kSecond);
        // Still being undone: the quiet period starts again.
        CHECK_FALSE(guard.allow("forwarding", 30 * kSecond));
        CHECK(*guard.next_resume_usec() == 90 * kSecond);
        CHECK(guard.resume_quiet(89 * kSecond).empty());
        CHECK(guard.resume_quiet(90 * kSecond) == std::vector<std::string>{"forwarding"});
        CHECK_FALSE(guard.suspended("forwarding"));
        CHECK(guard.allow("forwarding", 91 * kSecond));
}
