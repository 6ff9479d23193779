// The schema's rows write a DaemonStatus into sd-bus messages and read it
// back, without a bus: a message only needs an sd_bus that has started, and
// one on one end of a socketpair starts without a peer (what it sends stays
// in the socket buffer).
#include <cerrno>
#include <memory>
#include <set>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bus-schema.hpp"
#include "handles.hpp"

namespace {

using natd::DaemonStatus;
using natd::SdBusMessagePtr;
namespace bus = natd::bus;

class MessageFactory {
public:
        MessageFactory() {
                REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_) == 0);
                sd_bus* b = nullptr;
                REQUIRE(sd_bus_new(&b) >= 0);
                bus_.reset(b);
                REQUIRE(sd_bus_set_fd(b, fds_[0], fds_[0]) >= 0);
                REQUIRE(sd_bus_start(b) >= 0);
        }
        ~MessageFactory() {
                bus_.reset();  // closes fds_[0]
                close(fds_[1]);
        }
        MessageFactory(const MessageFactory&) = delete;
        MessageFactory& operator=(const MessageFactory&) = delete;

        // A message to append to; its type and header do not matter here.
        SdBusMessagePtr message() {
                sd_bus_message* m = nullptr;
                REQUIRE(sd_bus_message_new_method_call(bus_.get(), &m, natd::kBusName,
                                                       natd::kObjectPath, natd::kManagerInterface,
                                                       "Test") >= 0);
                return SdBusMessagePtr(m);
        }

        // Seals what was appended and rewinds to read it.
        void for_reading(sd_bus_message* m) {
                REQUIRE(sd_bus_message_seal(m, ++cookie_, 0) >= 0);
                REQUIRE(sd_bus_message_rewind(m, 1) >= 0);
        }

private:
        int fds_[2] = {-1, -1};
        // Not flushed when closed: with no peer, sd_bus_flush would wait for
        // the authentication to time out.
        std::unique_ptr<sd_bus, natd::FreeWith<sd_bus_close_unref>> bus_;
        uint64_t cookie_ = 0;
};

// Every field set, none to its default.
DaemonStatus full_status() {
        DaemonStatus s;
        s.reachable = true;
        s.state = "degraded";
        s.state_since_usec = 1'700'000'000'123'456;
        s.status_text = "Degraded: something keeps deleting table ip natd";
        s.waiting_for = {"private interface (device-number-1): no interface matches",
                         "an IPv4 address on ens6"};
        s.public_interface = {
                "device-number-0",          "ens5", 2,
                "0a:00:00:00:00:02",        "up",   {"203.0.113.10/24", "203.0.113.11/24"},
                "altname device-number-0.0"};
        s.private_interface = {"device-number-1",
                               "ens6",
                               3,
                               "0a:00:00:00:00:03",
                               "down",
                               {"10.0.1.10/24"},
                               "IMDS device-number 1: 0a:00:00:00:00:03 (eni-1)"};
        s.forwarding = true;
        s.table_present = true;
        s.table_verified = true;
        s.counters = {
                {"masquerade", "iifname ens6 oifname ens5 counter masquerade", 3, 180},
                {"drop-in", "iifname ens5 oifname ens6 counter drop", 1ULL << 40, 1ULL << 50}};
        s.routes = {{"10.0.2.0/24", "10.0.1.1", true}, {"10.0.3.0/24", "10.0.1.1", false}};
        s.route_owner = "networkd";
        s.flow_offload = "on";
        s.files = {"/etc/sysctl.d/90-natd.conf",
                   "/etc/systemd/network/70-ens6.network.d/natd.conf"};
        s.conntrack_count = 12;
        s.conntrack_max = 262144;
        s.repairs = 7;
        s.last_repair_usec = 1'700'000'100'000'000;
        s.warnings = {"table ip filter chain FORWARD has policy drop"};
        s.discovery = {"ok",
                       "http://169.254.169.254",
                       "the latest refresh failed: timed out",
                       "i-0123456789abcdef0",
                       {"device-number-1: IMDS disagrees"},
                       {{"0a:00:00:00:00:03",
                         "ens6",
                         "eni-1",
                         1,
                         0,
                         "10.0.1.0/24",
                         {"10.0.0.0/16"},
                         {"10.0.1.10"},
                         {"198.51.100.7"}}}};
        s.facts = {{"return routes", "10.0.0.0/16", "IMDS vpc-ipv4-cidr-blocks of eni-1"}};
        s.high_availability = {
                .role = "active",
                .vrrp = "master",
                .status = "taking over: the floating address and the routes (EC2)",
                .peer = "10.0.1.12",
                .floating_address = "10.0.0.20",
                .holds_floating_address = true,
                .route_tables = {"rtb-0000000000000c001"},
                .role_since_usec = 1'700'000'000'000'000,
                .last_transition_role = "standby",
                .last_transition_usec = 1'699'000'000'000'000,
                .last_transition_duration_usec = 1234,
                .steps = {{"replace-routes", "failed", 2, "EC2 ReplaceRoute: Throttling: slow"}},
                .ec2_endpoint = "https://ec2.eu-west-1.amazonaws.com",
                .region = "eu-west-1",
                .instance_role = "natd-ha",
                .sync_internal_entries = 12,
                .sync_external_entries = 7,
                .sync_packets_sent = 231,
                .sync_packets_received = 118,
                .sync_errors = 3,
                .sync_lost_messages = 5,
                .sync_error = ""};
        return s;
}

// a{sv} as Properties.GetAll answers it, with every property of interface
// (and, when given, one entry a newer natd might send first).
void append_get_all(sd_bus_message* m, const char* interface, const DaemonStatus& s,
                    bool with_unknown = false) {
        REQUIRE(sd_bus_message_open_container(m, 'a', "{sv}") >= 0);
        if (with_unknown)
                REQUIRE(sd_bus_message_append(m, "{sv}", "FromTheFuture", "a{su}", 1, "x", 1U) >=
                        0);
        for (const auto& p : bus::properties()) {
                if (p.interface != std::string_view(interface))
                        continue;
                INFO(p.name);
                REQUIRE(sd_bus_message_open_container(m, 'e', "sv") >= 0);
                REQUIRE(sd_bus_message_append_basic(m, 's', p.name) >= 0);
                // A variant refuses values of another type than its signature.
                REQUIRE(sd_bus_message_open_container(m, 'v', p.signature) >= 0);
                REQUIRE(p.write(m, s) >= 0);
                REQUIRE(sd_bus_message_close_container(m) >= 0);
                REQUIRE(sd_bus_message_close_container(m) >= 0);
        }
        REQUIRE(sd_bus_message_close_container(m) >= 0);
}

}  // namespace

TEST_CASE("each property writes its field as its signature and reads it back", "[bus]") {
        MessageFactory factory;
        const DaemonStatus full = full_status();
        REQUIRE_FALSE(bus::properties().empty());
        for (const auto& p : bus::properties()) {
                INFO(p.interface << "." << p.name << " " << p.signature);
                CHECK(bus::complete_types(p.signature).size() == 1);
                auto m = factory.message();
                REQUIRE(sd_bus_message_open_container(m.get(), 'v', p.signature) >= 0);
                REQUIRE(p.write(m.get(), full) >= 0);
                REQUIRE(sd_bus_message_close_container(m.get()) >= 0);
                factory.for_reading(m.get());

                DaemonStatus got;
                REQUIRE(sd_bus_message_enter_container(m.get(), 'v', p.signature) > 0);
                REQUIRE(p.read(m.get(), got) >= 0);
                REQUIRE(sd_bus_message_exit_container(m.get()) >= 0);
                CHECK(sd_bus_message_at_end(m.get(), 1) > 0);
                CHECK_FALSE(p.differs(got, full));
                // The property carries something: its field is no longer empty.
                CHECK(p.differs(got, DaemonStatus{}));
                CHECK_FALSE(p.differs(full, full));
        }
}

TEST_CASE("GetAll and the method replies carry the whole status", "[bus]") {
        MessageFactory factory;
        const DaemonStatus full = full_status();
        DaemonStatus got;

        auto all = factory.message();
        append_get_all(all.get(), natd::kManagerInterface, full, true);
        factory.for_reading(all.get());
        REQUIRE(bus::read_properties(all.get(), natd::kManagerInterface, got) >= 0);
        CHECK(sd_bus_message_at_end(all.get(), 1) > 0);

        for (const auto& method : bus::methods()) {
                INFO(method.interface << "." << method.name << " -> " << method.out_signature);
                auto reply = factory.message();
                REQUIRE(method.write_reply(reply.get(), full) >= 0);
                factory.for_reading(reply.get());
                const char* written = sd_bus_message_get_signature(reply.get(), 1);
                REQUIRE(written != nullptr);
                CHECK(std::string(written) == method.out_signature);
                REQUIRE(method.read_reply(reply.get(), got) >= 0);
                CHECK(sd_bus_message_at_end(reply.get(), 1) > 0);
        }

        got.reachable = true;  // natd-ctl's own: natd answered
        CHECK(got == full);
}

TEST_CASE("a property of another type than the schema's is an error", "[bus]") {
        MessageFactory factory;
        auto m = factory.message();
        REQUIRE(sd_bus_message_append(m.get(), "a{sv}", 1, "State", "u", 3U) >= 0);
        factory.for_reading(m.get());
        DaemonStatus got;
        CHECK(bus::read_properties(m.get(), natd::kManagerInterface, got) == -ENXIO);
}

TEST_CASE("the schema finds each of its rows by name and id", "[bus]") {
        std::set<std::string> names;
        for (const auto& p : bus::properties()) {
                CHECK(bus::find_property(p.interface, p.name) == &p);
                CHECK(names.insert(std::string(p.interface) + "." + p.name).second);
        }
        for (const auto& m : bus::methods()) {
                CHECK(bus::find_method(m.interface, m.name) == &m);
                CHECK(&bus::method(m.id) == &m);
                CHECK(names.insert(std::string(m.interface) + "." + m.name).second);
                CHECK(bus::complete_types(m.out_signature).size() <= 1);
                const auto errors = bus::error_names(m);
                CHECK(errors.front() == std::string_view(m.failure_error));
                CHECK((m.caller == bus::Caller::NetAdmin) ==
                      (errors.back() == std::string_view(SD_BUS_ERROR_ACCESS_DENIED)));
        }
        CHECK(bus::find_property(natd::kManagerInterface, "NoSuchProperty") == nullptr);
        CHECK(bus::find_property(natd::kDiagnosticInterface, "State") == nullptr);
        CHECK(bus::find_method(natd::kDiagnosticInterface, "Reload") == nullptr);
        for (const char* interface : bus::interfaces()) {
                INFO(interface);
                bool used = false;
                for (const auto& p : bus::properties())
                        used = used || p.interface == std::string_view(interface);
                for (const auto& m : bus::methods())
                        used = used || m.interface == std::string_view(interface);
                CHECK(used);
        }
}

TEST_CASE("complete_types splits a signature into its arguments", "[bus]") {
        using V = std::vector<std::string_view>;
        CHECK(bus::complete_types("") == V{});
        CHECK(bus::complete_types("s") == V{"s"});
        CHECK(bus::complete_types("sa{sv}") == V{"s", "a{sv}"});
        CHECK(bus::complete_types("(ssissas)") == V{"(ssissas)"});
        CHECK(bus::complete_types("aa(st)bt") == V{"aa(st)", "b", "t"});
}
