// The reconciler driven through sequences of events against a fake host:
// what natd decides and does, without root, a kernel or a clock.
#include <cerrno>

#include <catch2/catch.hpp>

#include "fake-host.hpp"
#include "reconciler.hpp"

using natd::Config;
using natd::Decision;
using natd::Ipv4Cidr;
using natd::Link;
using natd::MacAddress;
using natd::ManagerState;
using natd::NetworkdLink;
using natd::Reconciler;
using natd::RouteOwnership;
using natd::testing::FakeHost;

namespace {

constexpr uint64_t kSecond = 1000 * 1000;

Ipv4Cidr cidr(const char* text) {
        return Ipv4Cidr::parse(text).value();
}

Link make_link(int ifindex, const char* name, const char* altname, const char* address) {
        Link l;
        l.ifindex = ifindex;
        l.name = name;
        l.altnames = {altname};
        l.mac = MacAddress::parse("0a:00:00:00:00:0" + std::to_string(ifindex)).value();
        if (address != nullptr)
                l.ipv4 = {cidr(address)};
        l.up = true;
        l.operstate = "up";
        return l;
}

// The NAT instance of the integration tests, in a fake world.
struct Lab {
        FakeHost host;
        Config config;
        std::vector<Link> links{make_link(2, "ens5", "device-number-0.0", "203.0.113.10/24")};
        uint64_t now = 1000 * kSecond;
        bool timed_out = false;
        Reconciler reconciler;
        Decision last;

        explicit Lab(natd::ReconcileOptions options = {}) : reconciler(host, options) {
                for (const char* s : {"10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"})
                        config.subnets.push_back(cidr(s));
        }

        void attach_private(int ifindex = 3, const char* name = "ens6",
                            const char* altname = "device-number-1.0") {
                links.push_back(make_link(ifindex, name, altname, "10.0.1.10/24"));
        }
        Link* link(const char* name) {
                for (auto& l : links)
                        if (l.name == name)
                                return &l;
                return nullptr;
        }
        natd::HostFacts facts;           // flowtables "not probed": none
        std::optional<natd::HaGate> ha;  // the pair's role change, when the plan has a pair
        const Decision& step() {
                last = reconciler.run({.config = config,
                                       .links = links,
                                       .now_usec = now,
                                       .jitter = 0.5,
                                       .links_synchronized = true,
                                       .wait_timed_out = timed_out,
                                       .last_foreign_nft = "",
                                       .rescan_blockers = true,
                                       .facts = facts,
                                       .ha = ha});
                return last;
        }
        // Lets time pass to the decision's wake-up (a retry, a deadline) and
        // runs again.
        const Decision& wake() {
                REQUIRE(last.wake_usec);
                now = std::max(now, *last.wake_usec);
                return step();
        }
        [[nodiscard]] ManagerState state() const { return last.report.state; }
        [[nodiscard]] const std::string& status() const { return last.report.status; }
        [[nodiscard]] bool kernel_as_planned() {
                const auto& applied = reconciler.memory().applied;
                return applied && host.verify(applied->plan).ok();
        }
};

// A .network file whose [Match] selects only the private ENI (Name=ens6).
NetworkdLink managed_by(const char* file, const char* state = "configured") {
        return NetworkdLink{file, state, natd::NetworkMatch{{}, {}, {"ens6"}}};
}

// AL2023 before net-utils' per-ENI file: networkd configures ens6 from
// 80-ec2.network, whose [Match] selects every ENI.
const NetworkdLink kSharedEc2Network{"/usr/lib/systemd/network/80-ec2.network", "configured",
                                     natd::NetworkMatch{}};

// A natd with a bus and the private ENI attached, networkd managing it
// from the shared 80-ec2.network.
void attach_on_shared_network(Lab& lab) {
        lab.host.bus = true;
        lab.attach_private();
        lab.host.networkd[3] = kSharedEc2Network;
}

}  // namespace

TEST_CASE("an ENI that comes late is configured once it is there") {
        Lab lab;
        lab.step();
        CHECK(lab.state() == ManagerState::Waiting);
        CHECK(lab.status().find("no interface matches") != std::string::npos);
        CHECK(lab.host.count("replace_ruleset") == 0);

        lab.attach_private();
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.last.notify_ready);
        CHECK(lab.kernel_as_planned());
        CHECK(lab.host.count("replace_ruleset") == 1);
        CHECK(lab.host.routes.size() == 2);  // 10.0.1.0/24 is the ENI's own subnet
        CHECK(lab.host.files.size() == 2);   // sysctl file and drop-in
        CHECK(lab.host.files.contains("/etc/systemd/network/70-ens6.network.d/natd.conf"));
        CHECK(lab.reconciler.memory().repairs == 0);
        CHECK_FALSE(lab.last.wake_usec);

        // Nothing changed: nothing is done.
        const auto calls = lab.host.calls.size();
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK_FALSE(lab.last.notify_ready);
        CHECK(lab.host.count("replace_ruleset") == 1);
        CHECK(lab.host.count("sync_files") == 1);
        CHECK(lab.host.calls.size() > calls);  // it looked (verified) again
}

TEST_CASE("nf_conntrack as a module: the modprobe.d file with the others, stable") {
        Lab lab;
        lab.facts.memory_bytes = uint64_t{1} << 32;
        lab.facts.conntrack_module = true;
        lab.attach_private();
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.host.files.size() == 3);
        CHECK(lab.host.files["/etc/modprobe.d/natd.conf"].ends_with(
                "options nf_conntrack hashsize=524288\n"));
        CHECK(lab.host.files.contains("/etc/systemd/network/70-ens6.network.d/natd.conf"));
        // In sync: no rewrite, no networkd reload for it.
        const auto reloads = lab.host.count("reload_networkd");
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.host.count("sync_files") == 1);
        CHECK(lab.host.count("reload_networkd") == reloads);
        CHECK(lab.reconciler.memory().repairs == 0);
}

TEST_CASE("a restart finding everything in place replaces nothing") {
        Lab first;
        first.attach_private();
        first.step();
        REQUIRE(first.state() == ManagerState::Ready);

        Lab second;
        second.attach_private();
        second.host.forwarding = first.host.forwarding;
        second.host.table = first.host.table;
        second.host.routes = first.host.routes;
        second.host.files = first.host.files;
        second.step();
        CHECK(second.state() == ManagerState::Ready);
        CHECK(second.host.count("replace_ruleset") == 0);  // counters survive a restart
        CHECK(second.host.count("sync_files") == 0);
        CHECK(second.host.count("sync_own_routes") == 0);
}

TEST_CASE("a renamed ENI gets rules, routes and a drop-in for its new name") {
        Lab lab;
        lab.attach_private();
        lab.step();
        REQUIRE(lab.state() == ManagerState::Ready);

        lab.link("ens6")->name = "ens9";
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.kernel_as_planned());
        CHECK(lab.host.table->rules.front().matches.size() > 0);
        CHECK(lab.host.files.contains("/etc/systemd/network/70-ens9.network.d/natd.conf"));
        CHECK_FALSE(lab.host.files.contains("/etc/systemd/network/70-ens6.network.d/natd.conf"));
        CHECK(lab.reconciler.memory().repairs == 0);  // a new target, not a repair
}

TEST_CASE("a detached ENI is waited for and re-attached under a new name") {
        Lab lab;
        lab.attach_private();
        lab.step();
        REQUIRE(lab.state() == ManagerState::Ready);

        std::erase_if(lab.links, [](const Link& l) { return l.name == "ens6"; });
        lab.step();
        CHECK(lab.state() == ManagerState::Waiting);
        // Its rules stay: harmless, and right again if it comes back as it was.
        CHECK(lab.host.table.has_value());
        // The interface is gone: nothing of it is guarded or repaired.
        lab.host.table.reset();
        lab.step();
        CHECK_FALSE(lab.host.table.has_value());

        lab.attach_private(7, "ens7", "device-number-1.0");
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.kernel_as_planned());
        CHECK(lab.host.files.contains("/etc/systemd/network/70-ens7.network.d/natd.conf"));
        CHECK(lab.host.files.size() == 2);
}

TEST_CASE("each kind of drift is repaired and counted") {
        Lab lab;
        lab.attach_private();
        lab.step();
        REQUIRE(lab.state() == ManagerState::Ready);

        natd::Part undone = natd::Part::Forwarding;
        SECTION("forwarding turned off") {
                lab.host.forwarding = false;
        }
        SECTION("the private ENI's own forwarding turned off") {
                lab.host.interface_forwarding["ens6"] = false;
        }
        SECTION("the public ENI's own forwarding turned off") {
                lab.host.interface_forwarding["ens5"] = false;
        }
        SECTION("table deleted") {
                lab.host.table.reset();
                undone = natd::Part::Ruleset;
        }
        SECTION("table altered") {
                lab.host.table->rules.pop_back();
                undone = natd::Part::Ruleset;
        }
        SECTION("a route deleted") {
                lab.host.delete_route("10.0.2.0/24");
                undone = natd::Part::Routes;
        }
        SECTION("a conntrack timeout changed") {
                lab.host.conntrack->tcp_established_timeout_sec = 432000;
                undone = natd::Part::Conntrack;
        }
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.kernel_as_planned());
        CHECK(lab.host.conntrack == lab.reconciler.memory().applied->plan.conntrack);
        CHECK(lab.reconciler.memory().repairs == 1);
        // The per-part count (natd_repairs_total{part=...}) names that part only.
        std::array<uint32_t, natd::kPartCount> expected{};
        expected[static_cast<size_t>(undone)] = 1;
        CHECK(lab.reconciler.memory().part_repairs == expected);
}

TEST_CASE("conntrack: settings natd cannot set and a full table are warnings, NAT stays ready") {
        Lab lab;
        lab.attach_private();
        lab.step();
        REQUIRE(lab.state() == ManagerState::Ready);
        CHECK(lab.reconciler.warnings().empty());
        lab.reconciler.note_conntrack_usage(80, 100);
        CHECK(lab.reconciler.warnings().empty());  // 80% is not above 80%
        lab.reconciler.note_conntrack_usage(81, 100);
        REQUIRE(lab.reconciler.warnings().size() == 1);
        CHECK(lab.reconciler.warnings()[0].starts_with(
                "the conntrack table is 81% full (81 of 100"));
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        lab.reconciler.note_conntrack_usage(10, 100);
        CHECK(lab.reconciler.warnings().empty());
}

TEST_CASE("natd never fights another program forever") {
        Lab lab;
        lab.attach_private();
        lab.step();
        REQUIRE(lab.state() == ManagerState::Ready);

        for (int i = 0; i < 20; ++i) {
                lab.host.table.reset();
                lab.now += kSecond / 10;
                lab.step();
                REQUIRE(lab.host.table.has_value());
        }
        CHECK(lab.reconciler.memory().repairs == 20);
        lab.host.table.reset();
        lab.now += kSecond / 10;
        lab.step();
        CHECK_FALSE(lab.host.table.has_value());
        CHECK(lab.state() == ManagerState::Degraded);
        CHECK(lab.status().find("table ip natd keeps being removed") != std::string::npos);
        REQUIRE(lab.last.wake_usec);

        // Left alone for a minute: natd repairs again by itself.
        lab.wake();
        CHECK(lab.host.table.has_value());
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.reconciler.memory().repairs == 21);
}

TEST_CASE("a repair undone again before natd reads it back is one more undo for the guard") {
        Lab lab;
        lab.attach_private();
        lab.step();
        REQUIRE(lab.state() == ManagerState::Ready);

        // Every repair is removed before the verification (a deleting loop
        // racing natd): each counts against the guard, none is a retry.
        lab.host.ignoring.insert("replace_ruleset");
        lab.host.table.reset();
        const size_t before = lab.host.count("replace_ruleset");
        for (int i = 0; i < 40; ++i) {
                lab.now += kSecond / 10;
                lab.step();
        }
        CHECK(lab.host.count("replace_ruleset") - before == 20);
        CHECK(lab.state() == ManagerState::Degraded);
        CHECK(lab.status().find("table ip natd keeps being removed") != std::string::npos);
}

TEST_CASE("a failed apply is retried with backoff until it works, and repair goes on") {
        Lab lab;
        lab.attach_private();
        lab.host.failing["sync_files"] = EROFS;
        lab.step();
        CHECK(lab.state() == ManagerState::Failed);
        CHECK(lab.status().find("Read-only file system") != std::string::npos);
        // The kernel's part does not wait for the files.
        CHECK(lab.host.table.has_value());
        CHECK(lab.host.routes.size() == 2);
        REQUIRE(lab.last.wake_usec);
        const uint64_t first_delay = *lab.last.wake_usec - lab.now;
        CHECK(first_delay >= 50 * 1000);
        CHECK(first_delay <= 150 * 1000);

        lab.wake();
        CHECK(lab.state() == ManagerState::Failed);
        CHECK(lab.host.count("sync_files") == 2);
        const uint64_t second_delay = *lab.last.wake_usec - lab.now;
        CHECK(second_delay == 2 * first_delay);

        // Events before the retry is due do not hammer the disk.
        lab.step();
        CHECK(lab.host.count("sync_files") == 2);

        lab.host.failing.clear();
        lab.wake();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.host.files.size() == 2);

        // Still self-healing.
        lab.host.table.reset();
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.host.table.has_value());
}

TEST_CASE("backoff is capped") {
        Lab lab;
        lab.attach_private();
        lab.host.failing["replace_ruleset"] = EBUSY;
        lab.step();
        for (int i = 0; i < 20; ++i)
                lab.wake();
        CHECK(lab.state() == ManagerState::Failed);
        CHECK(*lab.last.wake_usec - lab.now == 30 * kSecond);
}

TEST_CASE("an apply the kernel does not keep is a verification failure, retried") {
        Lab lab;
        lab.attach_private();
        lab.host.ignoring.insert("replace_ruleset");
        lab.step();
        CHECK(lab.state() == ManagerState::Failed);
        CHECK(lab.status().find("Verification failed: table ip natd is missing") !=
              std::string::npos);
        lab.host.ignoring.clear();
        lab.wake();
        CHECK(lab.state() == ManagerState::Ready);
}

TEST_CASE("--once fails fast on the first failure") {
        Lab lab({.once = true});
        lab.attach_private();
        lab.host.failing["sync_own_routes"] = ENETDOWN;
        lab.step();
        CHECK(lab.state() == ManagerState::Failed);
        REQUIRE(lab.last.exit_code);
        CHECK(*lab.last.exit_code == 1);
}

TEST_CASE("--once exits 0 once applied and verified") {
        Lab lab({.once = true});
        lab.step();
        CHECK_FALSE(lab.last.exit_code);
        lab.attach_private();
        lab.step();
        REQUIRE(lab.last.exit_code);
        CHECK(*lab.last.exit_code == 0);
}

TEST_CASE("--once exits 0 only when NAT works: degraded waits, and fails at the timeout") {
        Lab lab({.once = true});
        lab.attach_private();
        lab.host.route_lookup = [](const natd::RouteQuery& q) {
                return q.destination == natd::kInternetProbe
                               ? natd::RouteAnswer{ENETUNREACH, 0, 0, std::nullopt}
                               : natd::RouteAnswer{0, 1, 3, std::nullopt};
        };
        lab.step();
        CHECK(lab.state() == ManagerState::Degraded);
        CHECK(lab.last.notify_ready);  // applied and verified: systemd may go on
        CHECK_FALSE(lab.last.exit_code);
        SECTION("the default route comes") {
                lab.host.route_lookup = [](const natd::RouteQuery& q) {
                        return q.destination == natd::kInternetProbe
                                       ? natd::RouteAnswer{0, 1, 2,
                                                           natd::Ipv4Address::parse("203.0.113.1")
                                                                   .value()}
                                       : natd::RouteAnswer{0, 1, 3, std::nullopt};
                };
                lab.step();
                CHECK(lab.state() == ManagerState::Ready);
                REQUIRE(lab.last.exit_code);
                CHECK(*lab.last.exit_code == 0);
        }
        SECTION("it never does") {
                lab.timed_out = true;
                lab.step();
                CHECK(lab.state() == ManagerState::Failed);
                CHECK(lab.status().find("Timed out: Degraded:") != std::string::npos);
                CHECK(lab.status().find("no default route via ens5") != std::string::npos);
                REQUIRE(lab.last.exit_code);
                CHECK(*lab.last.exit_code == 1);
        }
}

TEST_CASE("WaitTimeoutSec ends a natd that never became ready") {
        Lab lab;
        lab.step();
        lab.timed_out = true;
        lab.step();
        CHECK(lab.state() == ManagerState::Failed);
        CHECK(lab.status().starts_with("Timed out: Waiting for"));
        REQUIRE(lab.last.exit_code);
        CHECK(*lab.last.exit_code == 1);
}

TEST_CASE("while waiting with a valid applied target, natd keeps guarding it") {
        Lab lab;
        lab.attach_private();
        lab.step();
        REQUIRE(lab.state() == ManagerState::Ready);

        SECTION("two links match the private selector") {
                lab.links.push_back(make_link(4, "ens7", "device-number-1.1", "10.0.9.10/24"));
        }
        SECTION("the private ENI lost its address") {
                lab.link("ens6")->ipv4.clear();
        }
        lab.step();
        CHECK(lab.state() == ManagerState::Waiting);
        CHECK(lab.status().find("keeping NAT ens6 -> ens5 in place") != std::string::npos);

        lab.host.table.reset();
        lab.host.delete_route("10.0.2.0/24");
        lab.host.forwarding = false;
        lab.step();
        CHECK(lab.state() == ManagerState::Waiting);
        CHECK(lab.kernel_as_planned());
        CHECK(lab.reconciler.memory().repairs == 3);
        // Files stay as they were while natd waits.
        CHECK(lab.host.count("sync_files") == 1);
}

TEST_CASE("a reload with other Subnets changes the routes and the drop-in") {
        Lab lab;
        lab.attach_private();
        lab.step();
        REQUIRE(lab.host.routes.size() == 2);
        lab.config.subnets.push_back(cidr("10.0.4.0/24"));
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.host.routes.size() == 3);
        CHECK(lab.host.files["/etc/systemd/network/70-ens6.network.d/natd.conf"].find(
                      "10.0.4.0/24") != std::string::npos);
        // The new subnet is a new source CIDR (SourceCIDRs= defaults to
        // Subnets=): the table is replaced to masquerade it too.
        CHECK(lab.host.count("replace_ruleset") == 2);
        CHECK(lab.kernel_as_planned());
}

TEST_CASE("routes by systemd-networkd: reload, handover, reconfigure") {
        Lab lab;
        lab.host.bus = true;
        lab.attach_private();
        lab.host.networkd[3] = managed_by("/run/systemd/network/70-ens6.network");
        lab.step();
        const char* dropin = "/etc/systemd/network/70-ens6.network.d/natd.conf";
        CHECK(lab.host.files.contains(dropin));
        CHECK(lab.host.count("reload_networkd") == 1);
        CHECK(lab.state() == ManagerState::Configuring);
        CHECK(lab.reconciler.memory().routes == RouteOwnership::NetworkdPending);
        CHECK(lab.host.routes.empty());

        SECTION("networkd installs the routes") {
                lab.host.answer_reload(true, lab.reconciler.memory().applied->plan.routes);
                lab.step();
                CHECK(lab.state() == ManagerState::Ready);
                CHECK(lab.reconciler.memory().routes == RouteOwnership::Networkd);
                CHECK(lab.status().find("(routes by systemd-networkd)") != std::string::npos);
                CHECK(lab.host.count("reload_networkd") == 1);

                // networkctl reconfigure: networkd drops and re-adds them.
                const auto routes = lab.host.routes;
                lab.host.routes.clear();
                lab.host.networkd[3].admin_state = "configuring";
                lab.step();
                CHECK(lab.state() == ManagerState::Configuring);
                lab.host.routes = routes;
                lab.host.networkd[3].admin_state = "configured";
                lab.step();
                CHECK(lab.state() == ManagerState::Ready);
                CHECK(lab.reconciler.memory().repairs == 0);
                CHECK(lab.host.count("sync_own_routes") == 0);
                CHECK(lab.host.count("reload_networkd") == 1);
        }
        SECTION("networkd never installs them: natd does, and hands over later") {
                lab.wake();  // the 30 s grace period ends
                CHECK(lab.state() == ManagerState::Ready);
                CHECK(lab.reconciler.memory().routes == RouteOwnership::NatdInterim);
                CHECK(lab.host.routes.size() == 2);
                CHECK(lab.reconciler.memory().repairs == 0);

                lab.host.answer_reload(true, lab.reconciler.memory().applied->plan.routes);
                lab.step();
                CHECK(lab.reconciler.memory().routes == RouteOwnership::Networkd);
                CHECK(lab.host.routes.size() == 2);
                for (const auto& r : lab.host.routes)
                        CHECK(r.protocol != natd::kRouteProtocol);  // natd's interim ones went
                CHECK(lab.reconciler.memory().repairs == 0);        // a handover, not a repair
        }
        SECTION("networkd refuses the reload: natd installs the routes at once") {
                lab.host.answer_reload(false);
                lab.step();
                CHECK(lab.state() == ManagerState::Ready);
                CHECK(lab.reconciler.memory().routes == RouteOwnership::NatdInterim);
                CHECK(lab.host.routes.size() == 2);
        }
}

TEST_CASE("networkd starting to manage the ENI moves the drop-in where it reads it") {
        Lab lab;
        lab.host.bus = true;
        lab.attach_private();
        lab.step();
        REQUIRE(lab.state() == ManagerState::Ready);
        CHECK(lab.reconciler.memory().routes == RouteOwnership::Natd);

        lab.host.networkd[3] = managed_by("/etc/systemd/network/10-private.network");
        lab.step();
        CHECK(lab.host.files.contains("/etc/systemd/network/10-private.network.d/natd.conf"));
        CHECK_FALSE(lab.host.files.contains("/etc/systemd/network/70-ens6.network.d/natd.conf"));
        CHECK(lab.host.count("reload_networkd") == 1);
        // natd's routes stay until networkd's are in, and serve meanwhile.
        CHECK(lab.host.routes.size() == 2);
        CHECK(lab.state() == ManagerState::Ready);
}

TEST_CASE("AL2023 boot: natd never extends 80-ec2.network, and the handover is no repair") {
        Lab lab;
        attach_on_shared_network(lab);  // ens5 not yet
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        for (const auto& [path, content] : lab.host.files)
                CHECK(path.string().find("80-ec2.network.d") == std::string::npos);
        CHECK(lab.host.files.contains("/etc/systemd/network/70-ens6.network.d/natd.conf"));
        CHECK(lab.host.count("reload_networkd") == 0);
        CHECK(lab.reconciler.memory().routes == RouteOwnership::Natd);
        CHECK(lab.host.routes.size() == 2);

        // net-utils writes 70-ens6.network (eni.conf pins the MAC) and
        // reloads networkd, which reads natd's drop-in there with it.
        lab.host.networkd[3] = NetworkdLink{"/run/systemd/network/70-ens6.network", "configuring",
                                            natd::NetworkMatch{{"0a:00:00:00:00:03"}, {}, {}}};
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);  // natd's routes serve meanwhile
        CHECK(lab.reconciler.memory().routes == RouteOwnership::NetworkdPending);
        // networkd is configured once its routes are in.
        for (auto& r : lab.host.routes)
                r.protocol = 4;  // networkd's replace natd's (RTPROT_STATIC)
        lab.host.networkd[3].admin_state = "configured";
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.reconciler.memory().routes == RouteOwnership::Networkd);
        CHECK(lab.host.count("reload_networkd") == 0);  // the drop-in did not change
        CHECK(lab.reconciler.memory().repairs == 0);
}

TEST_CASE("AL2023 reboot: networkd read the ENI's own file before natd's drop-in: one reload, "
          "no repair") {
        Lab lab;
        attach_on_shared_network(lab);
        lab.step();
        REQUIRE(lab.state() == ManagerState::Ready);
        REQUIRE(lab.reconciler.memory().routes == RouteOwnership::Natd);
        REQUIRE(lab.host.routes.size() == 2);
        CHECK(lab.host.files.contains("/etc/systemd/network/70-ens6.network.d/natd.conf"));

        // net-utils' reload: networkd reconfigures ens6 for 70-ens6.network
        // (its state file not rewritten yet). It removes the DHCP address and
        // the kernel drops every route over the link; natd sees the routes go
        // before the address: it looks again...
        lab.host.routes.clear();
        lab.step();
        CHECK(lab.host.routes.empty());
        CHECK(lab.state() == ManagerState::Configuring);
        REQUIRE(lab.last.wake_usec);
        // ... and puts them back once it sees why.
        lab.link("ens6")->ipv4.clear();
        lab.step();
        CHECK(lab.state() == ManagerState::Waiting);
        CHECK(lab.host.routes.size() == 2);
        // ... and networkd removes them as foreign routes, before natd's
        // look confirmed them.
        lab.host.ignoring.insert("sync_own_routes");
        lab.host.routes.clear();
        lab.step();
        lab.host.ignoring.clear();
        lab.step();
        CHECK(lab.host.routes.size() == 2);
        CHECK(lab.reconciler.memory().parts[static_cast<size_t>(natd::Part::Routes)].failures == 0);
        CHECK(lab.reconciler.memory().repairs == 0);  // nothing of natd's was undone

        // The lease is back, networkd configured ens6 from its own file, but
        // it had read the files before natd's drop-in was written.
        lab.link("ens6")->ipv4 = {cidr("10.0.1.10/24")};
        lab.host.networkd[3] = NetworkdLink{"/run/systemd/network/70-ens6.network", "configured",
                                            natd::NetworkMatch{{"0a:00:00:00:00:03"}, {}, {}}};
        lab.step();
        CHECK(lab.host.count("sync_files") == 1);  // the drop-in is as planned
        CHECK(lab.host.count("reload_networkd") == 1);
        CHECK(lab.reconciler.memory().routes == RouteOwnership::NetworkdPending);
        lab.host.answer_reload(true, lab.reconciler.memory().applied->plan.routes);
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.reconciler.memory().routes == RouteOwnership::Networkd);
        for (const auto& r : lab.host.routes)
                CHECK(r.protocol != natd::kRouteProtocol);
        lab.step();
        CHECK(lab.host.count("reload_networkd") == 1);
        CHECK(lab.reconciler.memory().repairs == 0);
}

TEST_CASE("routes natd just installed on an ENI networkd reconfigures: no failed apply") {
        Lab lab;
        attach_on_shared_network(lab);
        // networkd removes them before natd's look, and natd sees the
        // address go only after.
        lab.host.ignoring.insert("sync_own_routes");
        lab.step();
        lab.host.ignoring.clear();
        CHECK(lab.state() == ManagerState::Configuring);
        CHECK(lab.reconciler.memory().parts[static_cast<size_t>(natd::Part::Routes)].failures == 0);
        lab.link("ens6")->ipv4.clear();
        lab.step();
        CHECK(lab.host.routes.size() == 2);
        CHECK(lab.reconciler.memory().parts[static_cast<size_t>(natd::Part::Routes)].failures == 0);
        CHECK(lab.reconciler.memory().repairs == 0);
}

TEST_CASE("natd's routes deleted from an ENI networkd manages: repaired after a second") {
        Lab lab;
        attach_on_shared_network(lab);
        lab.step();
        REQUIRE(lab.state() == ManagerState::Ready);
        lab.host.delete_route("10.0.2.0/24");
        lab.step();
        CHECK(lab.host.routes.size() == 1);
        CHECK(lab.state() == ManagerState::Configuring);
        lab.wake();
        CHECK(lab.host.routes.size() == 2);
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.reconciler.memory().repairs == 1);
}

TEST_CASE("without networkd, routes lost with the private ENI's address are repairs") {
        Lab lab;
        lab.attach_private();
        lab.step();
        REQUIRE(lab.state() == ManagerState::Ready);
        lab.link("ens6")->ipv4.clear();
        lab.host.routes.clear();
        lab.step();
        CHECK(lab.host.routes.size() == 2);
        CHECK(lab.reconciler.memory().repairs == 1);
}

TEST_CASE("natd asks networkd to reload only once it is done configuring the link") {
        Lab lab;
        lab.host.bus = true;
        lab.attach_private();
        lab.host.networkd[3] = managed_by("/run/systemd/network/70-ens6.network", "configuring");
        lab.step();
        CHECK(lab.host.files.contains("/etc/systemd/network/70-ens6.network.d/natd.conf"));
        CHECK(lab.host.count("reload_networkd") == 0);  // DHCP would restart
        CHECK(lab.reconciler.memory().routes == RouteOwnership::NetworkdPending);
        CHECK(lab.state() == ManagerState::Configuring);
        lab.step();
        CHECK(lab.host.count("reload_networkd") == 0);

        lab.host.networkd[3].admin_state = "configured";
        lab.step();
        CHECK(lab.host.count("reload_networkd") == 1);
        lab.host.answer_reload(true, lab.reconciler.memory().applied->plan.routes);
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        lab.step();
        CHECK(lab.host.count("reload_networkd") == 1);  // once per change of the drop-in
}

TEST_CASE("Reapply replaces the table even when it is intact") {
        Lab lab;
        lab.attach_private();
        lab.step();
        REQUIRE(lab.host.count("replace_ruleset") == 1);
        lab.reconciler.reapply();
        lab.step();
        CHECK(lab.host.count("replace_ruleset") == 2);
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.reconciler.memory().repairs == 0);
}

TEST_CASE("foreign blockers make a verified NAT degraded") {
        Lab lab;
        lab.attach_private();
        lab.host.blockers = {"table ip filter chain FORWARD rule handle 4 (reject)"};
        lab.step();
        CHECK(lab.state() == ManagerState::Degraded);
        CHECK(lab.status().find("verified; table ip filter") != std::string::npos);
        CHECK(lab.last.notify_ready);  // applied and verified: systemd may go on
}

TEST_CASE("what natd does not own but a packet needs is degraded, and ready once it is back") {
        Lab lab;
        lab.attach_private();
        natd::RouteAnswer lookup{ENETUNREACH, 0, 0, std::nullopt};
        lab.host.route_lookup = [&](const natd::RouteQuery& q) {
                return q.destination == natd::kInternetProbe
                               ? lookup
                               : natd::RouteAnswer{0, 1, 3, std::nullopt};
        };
        lab.step();
        CHECK(lab.state() == ManagerState::Degraded);
        CHECK(lab.status().find("no default route via ens5") != std::string::npos);
        CHECK(lab.reconciler.data_path().size() == 1);  // one cause, three subnets
        CHECK(lab.last.notify_ready);                   // applied and verified: systemd may go on
        CHECK(lab.reconciler.memory().repairs == 0);    // natd does not own the route

        // The AL2023 loop hazard: the default route via the private ENI wins.
        lookup = {0, 1, 3, std::nullopt};
        lab.step();
        CHECK(lab.state() == ManagerState::Degraded);
        CHECK(lab.status().find("loop back into the VPC") != std::string::npos);

        lookup = {0, 1, 2, natd::Ipv4Address::parse("203.0.113.1").value()};
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.reconciler.data_path().empty());

        // The public ENI loses its address: said before any lookup.
        lab.link("ens5")->ipv4.clear();
        lab.step();
        CHECK(lab.state() == ManagerState::Degraded);
        CHECK(lab.status().find("ens5 has no IPv4 address") != std::string::npos);
}

TEST_CASE("a route of someone else's for a listed destination is left alone and reported") {
        Lab lab;
        lab.attach_private();
        // An admin's (or a VPN's) route for 10.0.3.0/24, there before natd.
        natd::RoutePlan vpn{cidr("10.0.3.0/24"), natd::Ipv4Address::parse("192.168.9.1").value(), 7,
                            "wg0", false};
        lab.host.routes.push_back({vpn, 4 /* RTPROT_STATIC */});
        lab.step();
        CHECK(lab.state() == ManagerState::Degraded);
        CHECK(lab.status().find("route 10.0.3.0/24 conflicts") != std::string::npos);
        CHECK(lab.reconciler.warnings().size() == 1);
        // Untouched, and natd's other route is in.
        REQUIRE(lab.host.routes.size() == 2);
        CHECK(lab.host.foreign_at(lab.reconciler.memory().applied->plan.routes[1]) != nullptr);
        CHECK(lab.reconciler.memory().repairs == 0);
        lab.step();
        CHECK(lab.host.count("sync_own_routes") == 1);  // no fight over it

        // The other route goes: natd installs its own and is ready.
        lab.host.delete_route("10.0.3.0/24");
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.host.routes.size() == 2);
        CHECK(lab.reconciler.warnings().empty());
}

TEST_CASE("retry delays double from the minimum to the maximum, with jitter") {
        const natd::ReconcileOptions o;
        CHECK(natd::retry_delay_usec(1, 0.5, o) == 100 * 1000);
        CHECK(natd::retry_delay_usec(2, 0.5, o) == 200 * 1000);
        CHECK(natd::retry_delay_usec(3, 0.0, o) == 200 * 1000);
        CHECK(natd::retry_delay_usec(3, 0.999999, o) >= 599 * 1000);
        CHECK(natd::retry_delay_usec(50, 0.5, o) == 30 * kSecond);
}

TEST_CASE("single ENI: one ENI, no routes, no drop-in, redirects off and kept off") {
        Lab lab;
        lab.config.subnets.clear();
        lab.config.private_selector.reset();
        lab.config.source_cidrs = {cidr("10.0.0.0/16")};
        lab.host.bus = true;
        lab.host.networkd[2] = {"/etc/systemd/network/70-ens5.network", "configured",
                                natd::NetworkMatch{{}, {}, {"ens5"}}};
        lab.step();
        REQUIRE(lab.state() == ManagerState::Ready);
        CHECK(lab.status() == "Ready: NAT on ens5 (single ENI), verified");
        CHECK(lab.kernel_as_planned());
        CHECK(lab.host.routes.empty());
        CHECK(lab.host.count("sync_own_routes") == 0);
        CHECK(lab.host.pending_reloads.empty());  // nothing for networkd to read
        REQUIRE(lab.host.files.size() == 1);
        const auto& sysctl = lab.host.files.begin()->second;
        CHECK(lab.host.files.begin()->first == natd::kSysctlFile);
        CHECK(sysctl.find("net.ipv4.conf.all.send_redirects = 0\n") != std::string::npos);
        CHECK(lab.host.send_redirects.at("all") == false);
        CHECK(lab.host.send_redirects.at("ens5") == false);

        // Turned back on by someone: a forwarding repair.
        lab.host.send_redirects["all"] = true;
        lab.step();
        CHECK(lab.state() == ManagerState::Ready);
        CHECK(lab.host.send_redirects.at("all") == false);
        CHECK(lab.reconciler.memory().repairs == 1);

        // Back to two ENIs: the drop-in and routes come, the sysctl file
        // no longer turns redirects off.
        lab.config = Config{};
        for (const char* s : {"10.0.1.0/24", "10.0.2.0/24"})
                lab.config.subnets.push_back(cidr(s));
        lab.attach_private();
        lab.step();
        CHECK(lab.host.files.size() == 2);
        CHECK(lab.host.files.at(natd::kSysctlFile).find("send_redirects") == std::string::npos);
}
