// conntrackd -s as conntrackd 1.4.7 prints it: the caches, the sync
// traffic and the messages lost.
#include <catch2/catch.hpp>

#include "conntrackd-stats.hpp"

namespace {

constexpr const char* kStats =
        "cache internal:\n"
        "current active connections:\t          12\n"
        "connections created:\t\t          40\tfailed:\t           0\n"
        "connections updated:\t\t           3\tfailed:\t           0\n"
        "connections destroyed:\t\t          28\tfailed:\t           0\n"
        "\n"
        "cache external:\n"
        "current active connections:\t           7\n"
        "connections created:\t\t           9\tfailed:\t           0\n"
        "connections updated:\t\t           0\tfailed:\t           0\n"
        "connections destroyed:\t\t           2\tfailed:\t           0\n"
        "\n"
        "traffic processed:\n"
        "                   0 Bytes                         0 Pckts\n"
        "\n"
        "UDP traffic (active device=ens6):\n"
        "                8812 Bytes sent                 4120 Bytes recv\n"
        "                 231 Pckts sent                  118 Pckts recv\n"
        "                   1 Error send                    2 Error recv\n"
        "\n"
        "message tracking:\n"
        "                   4 Malformed msgs                    5 Lost msgs\n";

}  // namespace

TEST_CASE("conntrackd -s: caches, sync traffic, lost messages", "[conntrackd]") {
        const auto s = natd::parse_conntrackd_stats(kStats);
        REQUIRE(s.ok());
        CHECK(s.value() == natd::ConntrackdStats{.internal_entries = 12,
                                                 .external_entries = 7,
                                                 .packets_sent = 231,
                                                 .packets_received = 118,
                                                 .send_errors = 1,
                                                 .receive_errors = 2,
                                                 .lost_messages = 5,
                                                 .malformed_messages = 4});
}

TEST_CASE("conntrackd -s: what is missing is said", "[conntrackd]") {
        const auto none = natd::parse_conntrackd_stats("");
        REQUIRE_FALSE(none.ok());
        CHECK(none.error() ==
              "conntrackd -s: no counters for the internal cache's connections, the external "
              "cache's connections, the UDP traffic, the message tracking");
        std::string cut(kStats);
        cut.resize(cut.find("message tracking:"));
        const auto partial = natd::parse_conntrackd_stats(cut);
        REQUIRE_FALSE(partial.ok());
        CHECK(partial.error() == "conntrackd -s: no counters for the message tracking");
}
