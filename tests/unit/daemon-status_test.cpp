#include <json-c/json.h>

#include <catch2/catch.hpp>

#include "daemon-status.hpp"
#include "handles.hpp"

namespace {

natd::DaemonStatus ready_status() {
        natd::DaemonStatus s;
        s.reachable = true;
        s.state = "ready";
        s.state_since_usec = 1'700'000'000'000'000;
        s.status_text = "Ready: NAT ens6 -> ens5, 1 return route via 10.0.1.1, verified";
        s.public_interface = {"device-number-0",          "ens5", 2,
                              "0a:00:00:00:00:02",        "up",   {"203.0.113.10/24"},
                              "altname device-number-0.0"};
        s.private_interface = {"device-number-1",
                               "ens6",
                               3,
                               "0a:00:00:00:00:03",
                               "up",
                               {"10.0.1.10/24"},
                               "IMDS device-number 1: 0a:00:00:00:00:03 (eni-0b)"};
        s.discovery.imds = "ok";
        s.discovery.endpoint = "http://169.254.169.254";
        s.discovery.instance_id = "i-0123456789abcdef0";
        s.discovery.enis = {{"0a:00:00:00:00:03",
                             "ens6",
                             "eni-0b",
                             1,
                             0,
                             "10.0.1.0/24",
                             {"10.0.0.0/16"},
                             {"10.0.1.10"},
                             {}}};
        s.facts = {{"return routes", "10.0.0.0/16", "IMDS vpc-ipv4-cidr-blocks of eni-0b"}};
        s.forwarding = true;
        s.table_present = true;
        s.table_verified = true;
        s.counters = {{"masquerade", "iifname ens6 oifname ens5 counter masquerade", 3, 180},
                      {"drop-in", "iifname ens5 oifname ens6 counter drop", 1, 60}};
        s.routes = {{"10.0.2.0/24", "10.0.1.1", true}};
        s.route_owner = "natd";
        s.flow_offload = "off (FlowOffload=no)";
        s.files = {"/etc/sysctl.d/90-natd.conf"};
        s.conntrack_count = 12;
        s.conntrack_max = 262144;
        return s;
}

using JsonPtr = std::unique_ptr<json_object, natd::FreeWith<json_object_put>>;

json_object* at(json_object* o, const char* key) {
        json_object* v = nullptr;
        REQUIRE(json_object_object_get_ex(o, key, &v));
        return v;
}

}  // namespace

TEST_CASE("status --json follows the documented schema", "[status]") {
        const auto text = natd::format_status_json(ready_status());
        JsonPtr root(json_tokener_parse(text.c_str()));
        REQUIRE(root);
        json_object* o = root.get();
        CHECK(std::string(json_object_get_string(at(o, "state"))) == "ready");
        CHECK(json_object_get_boolean(at(o, "reachable")));
        CHECK(std::string(json_object_get_string(at(at(o, "public"), "name"))) == "ens5");
        CHECK(std::string(json_object_get_string(at(at(o, "private"), "name"))) == "ens6");
        CHECK(json_object_get_int(at(at(o, "private"), "ifindex")) == 3);
        CHECK(std::string(json_object_get_string(at(at(o, "private"), "source"))) ==
              "IMDS device-number 1: 0a:00:00:00:00:03 (eni-0b)");
        json_object* discovery = at(o, "discovery");
        CHECK(std::string(json_object_get_string(at(discovery, "imds"))) == "ok");
        CHECK(json_object_get_type(at(discovery, "error")) == json_type_null);
        CHECK(std::string(json_object_get_string(at(discovery, "instance_id"))) ==
              "i-0123456789abcdef0");
        json_object* enis = at(discovery, "enis");
        REQUIRE(json_object_array_length(enis) == 1);
        json_object* eni = json_object_array_get_idx(enis, 0);
        CHECK(std::string(json_object_get_string(at(eni, "interface"))) == "ens6");
        CHECK(json_object_get_int(at(eni, "device_number")) == 1);
        CHECK(json_object_array_length(at(eni, "public_ipv4s")) == 0);
        json_object* facts = at(o, "facts");
        REQUIRE(json_object_array_length(facts) == 1);
        CHECK(std::string(
                      json_object_get_string(at(json_object_array_get_idx(facts, 0), "source"))) ==
              "IMDS vpc-ipv4-cidr-blocks of eni-0b");
        json_object* routes = at(o, "routes");
        REQUIRE(json_object_array_length(routes) == 1);
        json_object* route = json_object_array_get_idx(routes, 0);
        CHECK(std::string(json_object_get_string(at(route, "destination"))) == "10.0.2.0/24");
        CHECK(std::string(json_object_get_string(at(route, "gateway"))) == "10.0.1.1");
        CHECK(json_object_get_boolean(at(route, "present")));
        CHECK(json_object_get_boolean(at(at(o, "nftables"), "present")));
        CHECK(json_object_get_boolean(at(at(o, "nftables"), "verified")));
        CHECK(json_object_array_length(at(at(o, "nftables"), "counters")) == 2);
        CHECK(json_object_get_boolean(at(o, "forwarding")));
        CHECK(json_object_get_int(at(o, "repairs")) == 0);
        CHECK(json_object_get_uint64(at(at(o, "conntrack"), "max")) == 262144);
        CHECK(json_object_is_type(at(o, "last_repair_usec"), json_type_null));
        CHECK(std::string(json_object_get_string(at(o, "flow_offload"))) == "off (FlowOffload=no)");
}

TEST_CASE("An unresolved interface and unknown values are null, not missing", "[status]") {
        natd::DaemonStatus s;
        s.reachable = true;
        s.state = "waiting";
        s.private_interface.selector = "device-number-1";
        s.waiting_for = {"private interface (device-number-1): no interface matches"};
        JsonPtr root(json_tokener_parse(natd::format_status_json(s).c_str()));
        REQUIRE(root);
        CHECK(json_object_is_type(at(at(root.get(), "private"), "name"), json_type_null));
        CHECK(json_object_is_type(at(root.get(), "forwarding"), json_type_null));
        CHECK(json_object_array_length(at(root.get(), "waiting_for")) == 1);
        CHECK(natd::status_exit_code(s) == natd::kStatusNotReady);
}

TEST_CASE("Exit codes: 0 ready, 1 not ready, 3 unreachable", "[status]") {
        auto s = ready_status();
        CHECK(natd::status_exit_code(s) == 0);
        s.state = "degraded";
        CHECK(natd::status_exit_code(s) == 1);
        s.reachable = false;
        CHECK(natd::status_exit_code(s) == 3);
        JsonPtr root(json_tokener_parse(natd::format_status_json(s).c_str()));
        CHECK(std::string(json_object_get_string(at(root.get(), "state"))) == "unreachable");
}

TEST_CASE("The human status shows every fact, in colour only when asked", "[status]") {
        const auto s = ready_status();
        const auto now = s.state_since_usec + 125'000'000;  // 2min 5s later
        const auto text = natd::format_status_text(s, now, false);
        CHECK(text.find("State: ready since") != std::string::npos);
        CHECK(text.find("2min 5s ago") != std::string::npos);
        CHECK(text.find("device-number-0 → ens5 (ifindex 2)") != std::string::npos);
        CHECK(text.find(
                      "device-number-1 → ens6 (ifindex 3), 0a:00:00:00:00:03, up, 10.0.1.10/24") !=
              std::string::npos);
        CHECK(text.find("Forwarding: on") != std::string::npos);
        CHECK(text.find("table ip natd verified") != std::string::npos);
        CHECK(text.find("masquerade: 3 packets, 180 bytes") != std::string::npos);
        CHECK(text.find("10.0.2.0/24 via 10.0.1.1 present") != std::string::npos);
        CHECK(text.find("12 of 262144 entries") != std::string::npos);
        CHECK(text.find("Repairs: 0") != std::string::npos);
        CHECK(text.find("FlowOffload: off (FlowOffload=no)") != std::string::npos);
        CHECK(text.find('\033') == std::string::npos);
        CHECK(natd::format_status_text(s, now, true).find("\033[32m") != std::string::npos);

        auto gone = s;
        gone.reachable = false;
        CHECK(natd::format_status_text(gone, now, false).find("natd is not running") !=
              std::string::npos);
}
