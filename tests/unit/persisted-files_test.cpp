#include <catch2/catch.hpp>

#include "conntrack-plan.hpp"
#include "networkd-state.hpp"
#include "persisted-files.hpp"

namespace {

natd::RoutePlan route(const char* destination) {
        return {natd::Ipv4Cidr::parse(destination).value(),
                natd::Ipv4Address::parse("10.0.1.1").value(), 3, "ens6", true};
}

}  // namespace

TEST_CASE("The sysctl file turns forwarding on", "[persist]") {
        const auto f = natd::sysctl_file(natd::plan_conntrack(natd::Config{}, uint64_t{1} << 29));
        CHECK(f.path == "/etc/sysctl.d/90-natd.conf");
        CHECK(f.content.find("\nnet.ipv4.ip_forward = 1\n") != std::string::npos);
        // Conntrack's settings, each allowed to fail at boot ("-").
        CHECK(f.content.ends_with("net.ipv4.ip_forward = 1\n"
                                  "-net.netfilter.nf_conntrack_buckets = 65536\n"
                                  "-net.netfilter.nf_conntrack_max = 65536\n"
                                  "-net.netfilter.nf_conntrack_tcp_timeout_established = 350\n"));
}

TEST_CASE("nf_conntrack as a module: its hash size in modprobe.d", "[persist]") {
        constexpr uint64_t kGiB = uint64_t{1} << 30;
        const natd::Config defaults;
        // Loadable (Amazon Linux 2023): the planned hash size as the module's
        // parameter, so the table has it from the load at boot.
        const auto module = natd::plan_conntrack(defaults, 4 * kGiB, true);
        CHECK(module.module_hashsize == 524288);
        CHECK(module.module_hashsize == module.buckets);
        const auto f = natd::modprobe_file(module);
        REQUIRE(f);
        CHECK(f->path == "/etc/modprobe.d/natd.conf");
        CHECK(f->content == "# Written by natd; it rewrites this file. Configure natd instead:\n"
                            "# /etc/natd/natd.conf\n"
                            "# nf_conntrack's hash table, sized when the module loads\n"
                            "# ([Conntrack] HashSize=; net.netfilter.nf_conntrack_buckets\n"
                            "# can only resize it later).\n"
                            "options nf_conntrack hashsize=524288\n");
        CHECK(natd::is_persisted_file_path(f->path.string()));
        // HashSize= configured: that, rounded as the kernel rounds it.
        natd::Config c;
        c.conntrack_hash_size = 100000;
        CHECK(natd::modprobe_file(natd::plan_conntrack(c, 4 * kGiB, true))
                      ->content.ends_with("options nf_conntrack hashsize=100352\n"));
        // The sysctl file is the same either way.
        CHECK(natd::sysctl_file(module) ==
              natd::sysctl_file(natd::plan_conntrack(defaults, 4 * kGiB)));

        // Built in: no file (the table was sized at boot, before any file).
        CHECK_FALSE(natd::modprobe_file(natd::plan_conntrack(defaults, 4 * kGiB, false)));
        CHECK(natd::plan_conntrack(defaults, 4 * kGiB).module_hashsize == 0);
        // Memory unknown and HashSize=/Max= auto: nothing to size, no file.
        CHECK_FALSE(natd::modprobe_file(natd::plan_conntrack(defaults, 0, true)));
        // ... but a configured HashSize= still is.
        CHECK(natd::modprobe_file(natd::plan_conntrack(c, 0, true)));
}

TEST_CASE("Conntrack sizing: auto from memory, configured values as they are", "[persist]") {
        constexpr uint64_t kGiB = uint64_t{1} << 30;
        const natd::Config defaults;
        auto automatic = [&](uint64_t memory) {
                return natd::plan_conntrack(defaults, memory).max;
        };
        CHECK(automatic(kGiB / 2) == 65536);   // 0.5 GiB: the floor
        CHECK(automatic(kGiB / 8) == 65536);   // even smaller: still the floor
        CHECK(automatic(4 * kGiB) == 524288);  // one entry per 8 KiB
        // Memory unknown: the kernel's sizing stays, only the timeouts are set.
        CHECK(automatic(0) == 0);
        CHECK(natd::render_conntrack_sysctls(natd::plan_conntrack(defaults, 0)) ==
              "net.netfilter.nf_conntrack_tcp_timeout_established = 350\n");
        // The kernel rounds the hash to 512 buckets a page and reads that back.
        const auto odd = natd::plan_conntrack(defaults, uint64_t{972'000'000});
        CHECK(odd.max == 118652);
        CHECK(odd.buckets == 118784);
        CHECK(odd.buckets % natd::kConntrackBucketsPerPage == 0);
        // Never more than a quarter of memory's worth of entries.
        for (uint64_t m : {kGiB / 8, kGiB / 2, 4 * kGiB, 64 * kGiB})
                CHECK(automatic(m) * natd::kConntrackEntryBytes <= m / 4);
        const auto p = natd::plan_conntrack(defaults, 4 * kGiB);
        CHECK(p.buckets == p.max);  // a multiple of 512 already
        CHECK_FALSE(p.max_configured);
        CHECK(p.tcp_established_timeout_sec == 350);
        CHECK_FALSE(p.udp_stream_timeout_sec);

        natd::Config c;
        c.conntrack_max = 100000;
        c.conntrack_hash_size = 16384;
        c.tcp_established_timeout_sec = 600;
        c.udp_timeout_sec = 180;
        const auto q = natd::plan_conntrack(c, 4 * kGiB);
        CHECK(q.max == 100000);
        CHECK(q.max_configured);
        CHECK(q.buckets == 16384);
        CHECK(natd::render_conntrack_sysctls(q) ==
              "net.netfilter.nf_conntrack_buckets = 16384\n"
              "net.netfilter.nf_conntrack_max = 100000\n"
              "net.netfilter.nf_conntrack_tcp_timeout_established = 600\n"
              "net.netfilter.nf_conntrack_udp_timeout_stream = 180\n");

        // A pair: liberal TCP window tracking (one-way packets while EC2
        // moves the address and the routes must not be dropped as invalid).
        CHECK_FALSE(q.tcp_be_liberal);
        c.ha_peer = natd::Ipv4Address::parse("10.0.1.12").value();
        const auto pair = natd::plan_conntrack(c, 4 * kGiB);
        CHECK(pair.tcp_be_liberal);
        CHECK(natd::render_conntrack_sysctls(pair).ends_with(
                "net.netfilter.nf_conntrack_tcp_be_liberal = 1\n"));
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
