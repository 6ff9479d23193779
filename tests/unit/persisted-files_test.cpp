#include <catch2/catch.hpp>

#include "networkd-state.hpp"
#include "persisted-files.hpp"

namespace {

natd::RoutePlan route(const char* destination) {
        return {natd::Ipv4Cidr::parse(destination).value(),
                natd::Ipv4Address::parse("10.0.1.1").value(), 3, "ens6", true};
}

}  // namespace

TEST_CASE("The sysctl file turns forwarding on", "[persist]") {
        const auto f = natd::sysctl_file();
        CHECK(f.path == "/etc/sysctl.d/90-natd.conf");
        CHECK(f.content.find("\nnet.ipv4.ip_forward = 1\n") != std::string::npos);
}

TEST_CASE("The route drop-in has one [Route] per destination", "[persist]") {
        const auto text = natd::render_route_dropin({route("10.0.2.0/24"), route("10.0.3.0/24")});
        CHECK(text.substr(text.find("\n[Route]")) == "\n[Route]\n"
                                                     "Destination=10.0.2.0/24\n"
                                                     "Gateway=10.0.1.1\n"
                                                     "GatewayOnLink=yes\n"
                                                     "\n[Route]\n"
                                                     "Destination=10.0.3.0/24\n"
                                                     "Gateway=10.0.1.1\n"
                                                     "GatewayOnLink=yes\n");
        CHECK(natd::render_route_dropin({}).find("[Route]") == std::string::npos);
}

TEST_CASE("The drop-in keeps DHCP's default route off the private ENI", "[persist]") {
        // The AL2023 loop hazard: net-utils' metric-513 default route via the
        // private ENI. Even without return routes.
        for (const auto& routes :
             {std::vector<natd::RoutePlan>{}, std::vector<natd::RoutePlan>{route("10.0.2.0/24")}})
                CHECK(natd::render_route_dropin(routes).find("\n[DHCPv4]\nUseGateway=no\n") !=
                      std::string::npos);
}

TEST_CASE("The drop-in goes where networkd looks for the private ENI", "[persist]") {
        SECTION("networkd uses net-utils' per-ENI file") {
                const auto at =
                        natd::route_dropin_location("ens6", 3,
                                                    {{2, "/run/systemd/network/70-ens5.network"},
                                                     {3, "/run/systemd/network/70-ens6.network"}});
                CHECK(at.path == "/etc/systemd/network/70-ens6.network.d/natd.conf");
                CHECK(at.used_by_networkd);
        }
        SECTION("Debian's net-utils uses 07-") {
                const auto at = natd::route_dropin_location(
                        "ens6", 3, {{3, "/run/systemd/network/07-ens6.network"}});
                CHECK(at.path == "/etc/systemd/network/07-ens6.network.d/natd.conf");
                CHECK(at.used_by_networkd);
        }
        SECTION("a file that also configures another link is not natd's to extend") {
                const auto at = natd::route_dropin_location(
                        "ens6", 3,
                        {{2, "/usr/lib/systemd/network/80-ec2.network"},
                         {3, "/usr/lib/systemd/network/80-ec2.network"}});
                CHECK(at.path == "/etc/systemd/network/70-ens6.network.d/natd.conf");
                CHECK_FALSE(at.used_by_networkd);
                CHECK(at.shared_file == "/usr/lib/systemd/network/80-ec2.network");
        }
        SECTION("a file whose [Match] selects other links, before they are configured") {
                const auto at = natd::route_dropin_location(
                        "ens6", 3, {{3, "/usr/lib/systemd/network/80-ec2.network"}}, false);
                CHECK(at.path == "/etc/systemd/network/70-ens6.network.d/natd.conf");
                CHECK_FALSE(at.used_by_networkd);
                CHECK(at.shared_file == "/usr/lib/systemd/network/80-ec2.network");
        }
        SECTION("networkd does not manage the link") {
                const auto at = natd::route_dropin_location("ens8", 5, {});
                CHECK(at.path == "/etc/systemd/network/70-ens8.network.d/natd.conf");
                CHECK_FALSE(at.used_by_networkd);
                CHECK(at.shared_file.empty());
        }
}

TEST_CASE("NETWORK_FILE= and ADMIN_STATE= are read from networkd's link state", "[persist]") {
        const auto link =
                natd::parse_networkd_link("# This is private data. Do not parse.\n"
                                          "ADMIN_STATE=configured\n"
                                          "NETWORK_FILE=/run/systemd/network/70-ens6.network\n"
                                          "DNS=\n");
        REQUIRE(link);
        CHECK(link->network_file == "/run/systemd/network/70-ens6.network");
        CHECK_FALSE(link->configuring());
        const auto busy =
                natd::parse_networkd_link("ADMIN_STATE=configuring\n"
                                          "NETWORK_FILE=/run/systemd/network/70-ens6.network");
        REQUIRE(busy);
        CHECK(busy->configuring());
        CHECK(natd::network_files({{3, *busy}}) ==
              std::map<int, std::string>{{3, "/run/systemd/network/70-ens6.network"}});
        CHECK_FALSE(natd::parse_networkd_link("ADMIN_STATE=unmanaged\n"));
        CHECK_FALSE(natd::parse_networkd_link("NETWORK_FILE=\n"));
        CHECK_FALSE(natd::parse_networkd_link(""));
}
