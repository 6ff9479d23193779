// Which .network files pin the private ENI: natd extends only those.
#include <catch2/catch.hpp>

#include "atomic-file.hpp"
#include "network-match.hpp"
#include "scratch-dir.hpp"

using natd::Link;
using natd::NetworkMatch;

namespace {

Link ens6() {
        Link l;
        l.ifindex = 3;
        l.name = "ens6";
        l.altnames = {"device-number-1.0", "enp0s6"};
        l.mac = natd::MacAddress::parse("02:00:0a:00:01:0a").value();
        return l;
}

// AL2023's /usr/lib/systemd/network/80-ec2.network.
constexpr const char* kEc2Network = "[Match]\nDriver=ena ixgbevf vif\n[Link]\nMTUBytes=9001\n"
                                    "[Network]\nDHCP=yes\n";

}  // namespace

TEST_CASE("80-ec2.network matches every ENI; net-utils' eni.conf pins it to one") {
        const auto generic = natd::parse_network_match({kEc2Network});
        CHECK(generic == NetworkMatch{});
        CHECK_FALSE(natd::pins_link(generic, ens6()));

        // 70-ens6.network -> 80-ec2.network with 70-ens6.network.d/eni.conf.
        const auto per_eni = natd::parse_network_match(
                {kEc2Network, "[Match]\nMACAddress=02:00:0a:00:01:0a\n[Network]\nDHCP=yes\n"});
        CHECK(per_eni.mac_addresses == std::vector<std::string>{"02:00:0a:00:01:0a"});
        CHECK(natd::pins_link(per_eni, ens6()));
}

TEST_CASE("Name= pins a link only with plain names of it") {
        auto names = [](const char* value) {
                return natd::parse_network_match({std::string("[Match]\nName=") + value + "\n"});
        };
        CHECK(natd::pins_link(names("ens6"), ens6()));
        CHECK(natd::pins_link(names("device-number-1.0"), ens6()));  // an altname
        CHECK(natd::pins_link(names("ens6 enp0s6"), ens6()));
        CHECK_FALSE(natd::pins_link(names("ens*"), ens6()));
        CHECK_FALSE(natd::pins_link(names("!ens5"), ens6()));
        CHECK_FALSE(natd::pins_link(names("ens6 ens5"), ens6()));  // also ens5
        CHECK_FALSE(natd::pins_link(names("ens7"), ens6()));
}

TEST_CASE("lists add up across drop-ins and an empty assignment resets them") {
        const auto m = natd::parse_network_match(
                {"[Match]\nMACAddress=02:00:0a:00:01:0a\n", "[Match]\nMACAddress=\n",
                 "# a comment\n[Match]\n Name = ens6 \n[Network]\nName=ignored\n"});
        CHECK(m.mac_addresses.empty());
        CHECK(m.names == std::vector<std::string>{"ens6"});
        CHECK_FALSE(natd::pins_link(
                natd::parse_network_match({"[Match]\nMACAddress=02:00:0a:00:01:0b\n"}), ens6()));
        CHECK(natd::pins_link(
                natd::parse_network_match({"[Match]\nPermanentMACAddress=02:00:0A:00:01:0A\n"}),
                ens6()));
}

TEST_CASE("read_network_match merges drop-ins of every network directory, masked by name") {
        const natd::test::ScratchDir root;
        auto put = [&](const char* path, const std::string& text) {
                REQUIRE(natd::write_file_atomically(root.at(path), text).ok());
        };
        put("/usr/lib/systemd/network/80-ec2.network", kEc2Network);
        put("/run/systemd/network/70-ens6.network", kEc2Network);
        SECTION("the shared file: nothing pins it") {
                auto m = natd::read_network_match(root.path,
                                                  "/usr/lib/systemd/network/80-ec2.network");
                REQUIRE(m.ok());
                CHECK_FALSE(natd::pins_link(m.value(), ens6()));
        }
        SECTION("the per-ENI name with net-utils' drop-in in /run") {
                put("/run/systemd/network/70-ens6.network.d/eni.conf",
                    "[Match]\nMACAddress=02:00:0a:00:01:0a\n");
                auto m =
                        natd::read_network_match(root.path, "/run/systemd/network/70-ens6.network");
                REQUIRE(m.ok());
                CHECK(natd::pins_link(m.value(), ens6()));

                // An /etc drop-in of the same name masks /run's.
                put("/etc/systemd/network/70-ens6.network.d/eni.conf", "[Network]\nDHCP=yes\n");
                m = natd::read_network_match(root.path, "/run/systemd/network/70-ens6.network");
                REQUIRE(m.ok());
                CHECK_FALSE(natd::pins_link(m.value(), ens6()));
        }
        SECTION("a file gone is an error with its errno") {
                auto m =
                        natd::read_network_match(root.path, "/run/systemd/network/70-ens9.network");
                REQUIRE_FALSE(m.ok());
                CHECK(m.errno_value() == ENOENT);
        }
}
