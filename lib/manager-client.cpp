#include "manager-client.hpp"

#include <cstring>
#include <functional>
#include <map>
#include <string>

#include <linux/netlink.h>

#include "file-registry.hpp"
#include "forwarding.hpp"
#include "kernel-status.hpp"
#include "manager-bus.hpp"
#include "route.hpp"

namespace natd {

namespace {

struct BusError {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        BusError() = default;
        BusError(const BusError&) = delete;
        BusError& operator=(const BusError&) = delete;
        ~BusError() { sd_bus_error_free(&e); }
        [[nodiscard]] std::string str(int r) const {
                if (sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED))
                        return "access denied: only root may do this";
                return e.message != nullptr ? e.message : std::strerror(-r);
        }
};

int read_strings(sd_bus_message* m, std::vector<std::string>& out) {
        char** strv = nullptr;
        const int r = sd_bus_message_read_strv(m, &strv);
        if (r < 0)
                return r;
        for (char** s = strv; s != nullptr && *s != nullptr; ++s) {
                out.emplace_back(*s);
                free(*s);
        }
        free(strv);
        return r;
}

int read_interface(sd_bus_message* m, InterfaceStatus& i) {
        const char* selector = nullptr;
        const char* name = nullptr;
        const char* mac = nullptr;
        const char* operstate = nullptr;
        int r = sd_bus_message_enter_container(m, 'r', "ssissas");
        if (r >= 0)
                r = sd_bus_message_read(m, "ssiss", &selector, &name, &i.ifindex, &mac, &operstate);
        if (r < 0)
                return r;
        i.selector = selector;
        i.name = name;
        i.mac = mac;
        i.operstate = operstate;
        r = read_strings(m, i.addresses);
        return r < 0 ? r : sd_bus_message_exit_container(m);
}

int read_routes(sd_bus_message* m, std::vector<RouteStatus>& routes) {
        int r = sd_bus_message_enter_container(m, 'a', "(ssb)");
        if (r < 0)
                return r;
        const char* destination = nullptr;
        const char* gateway = nullptr;
        int present = 0;
        while ((r = sd_bus_message_read(m, "(ssb)", &destination, &gateway, &present)) > 0)
                routes.push_back({destination, gateway, present != 0});
        return r < 0 ? r : sd_bus_message_exit_container(m);
}

template <typename T>
int read_trivial(sd_bus_message* m, char type, T& out) {
        return sd_bus_message_read_basic(m, type, &out);
}

int read_string(sd_bus_message* m, std::string& out) {
        const char* s = nullptr;
        const int r = sd_bus_message_read_basic(m, 's', &s);
        if (r >= 0)
                out = s;
        return r;
}

using PropertyReader = std::function<int(sd_bus_message*, DaemonStatus&)>;

const std::map<std::string, PropertyReader>& property_readers() {
        static const std::map<std::string, PropertyReader> readers{
                {"State", [](auto* m, auto& s) { return read_string(m, s.state); }},
                {"StateTimestamp",
                 [](auto* m, auto& s) { return read_trivial(m, 't', s.state_since_usec); }},
                {"StatusText", [](auto* m, auto& s) { return read_string(m, s.status_text); }},
                {"WaitingFor", [](auto* m, auto& s) { return read_strings(m, s.waiting_for); }},
                {"PublicInterface",
                 [](auto* m, auto& s) { return read_interface(m, s.public_interface); }},
                {"PrivateInterface",
                 [](auto* m, auto& s) { return read_interface(m, s.private_interface); }},
                {"Forwarding",
                 [](auto* m, auto& s) {
                         int b = 0;
                         const int r = read_trivial(m, 'b', b);
                         s.forwarding = b != 0;
                         return r;
                 }},
                {"RulesetPresent",
                 [](auto* m, auto& s) {
                         int b = 0;
                         const int r = read_trivial(m, 'b', b);
                         s.table_present = b != 0;
                         return r;
                 }},
                {"RulesetVerified",
                 [](auto* m, auto& s) {
                         int b = 0;
                         const int r = read_trivial(m, 'b', b);
                         s.table_verified = b != 0;
                         return r;
                 }},
                {"Routes", [](auto* m, auto& s) { return read_routes(m, s.routes); }},
                {"RouteOwner", [](auto* m, auto& s) { return read_string(m, s.route_owner); }},
                {"PersistedFiles", [](auto* m, auto& s) { return read_strings(m, s.files); }},
                {"Repairs", [](auto* m, auto& s) { return read_trivial(m, 'u', s.repairs); }},
                {"LastRepairTimestamp",
                 [](auto* m, auto& s) { return read_trivial(m, 't', s.last_repair_usec); }},
                {"Warnings", [](auto* m, auto& s) { return read_strings(m, s.warnings); }},
        };
        return readers;
}

Status call_void(sd_bus* bus, const char* method) {
        BusError error;
        sd_bus_message* reply = nullptr;
        const int r = sd_bus_call_method(bus, kBusName, kObjectPath, kManagerInterface, method,
                                         &error.e, &reply, "");
        SdBusMessagePtr owned(reply);
        if (r < 0)
                return Error{std::string(method) + " failed: " + error.str(r)};
        return Ok{};
}

}  // namespace

Result<SdBusPtr> open_system_bus() {
        sd_bus* bus = nullptr;
        if (int r = sd_bus_open_system(&bus); r < 0)
                return Error{std::string("Could not connect to the system bus: ") +
                             std::strerror(-r)};
        return SdBusPtr(bus);
}

Result<DaemonStatus> fetch_status(sd_bus* bus) {
        BusError error;
        sd_bus_message* reply = nullptr;
        int r = sd_bus_call_method(bus, kBusName, kObjectPath, "org.freedesktop.DBus.Properties",
                                   "GetAll", &error.e, &reply, "s", kManagerInterface);
        SdBusMessagePtr owned(reply);
        if (r < 0)
                return Error{"natd does not answer on the system bus: " + error.str(r)};

        DaemonStatus s;
        s.reachable = true;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char* name = nullptr;
                r = sd_bus_message_read_basic(reply, 's', &name);
                if (r < 0)
                        break;
                auto it = property_readers().find(name);
                if (it == property_readers().end()) {
                        r = sd_bus_message_skip(reply, "v");  // a newer natd's property
                } else {
                        const char* contents = nullptr;
                        r = sd_bus_message_peek_type(reply, nullptr, &contents);
                        if (r >= 0)
                                r = sd_bus_message_enter_container(reply, 'v', contents);
                        if (r >= 0)
                                r = it->second(reply, s);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0)
                return Error{std::string("Could not parse natd's properties: ") +
                             std::strerror(-r)};

        sd_bus_message* counters = nullptr;
        BusError counters_error;
        r = sd_bus_call_method(bus, kBusName, kObjectPath, kDiagnosticInterface, "GetRuleCounters",
                               &counters_error.e, &counters, "");
        SdBusMessagePtr owned_counters(counters);
        if (r >= 0 && sd_bus_message_enter_container(counters, 'a', "(sstt)") >= 0) {
                const char* role = nullptr;
                const char* rule = nullptr;
                uint64_t packets = 0;
                uint64_t bytes = 0;
                while (sd_bus_message_read(counters, "(sstt)", &role, &rule, &packets, &bytes) > 0)
                        s.counters.push_back({role, rule, packets, bytes});
        }
        sd_bus_message* conntrack = nullptr;
        BusError conntrack_error;
        r = sd_bus_call_method(bus, kBusName, kObjectPath, kDiagnosticInterface, "GetConntrack",
                               &conntrack_error.e, &conntrack, "");
        SdBusMessagePtr owned_conntrack(conntrack);
        uint64_t count = 0;
        uint64_t max = 0;
        if (r >= 0 && sd_bus_message_read(conntrack, "(tt)", &count, &max) > 0) {
                s.conntrack_count = count;
                s.conntrack_max = max;
        }
        return s;
}

Status call_reload(sd_bus* bus) {
        return call_void(bus, "Reload");
}

Status call_reapply(sd_bus* bus) {
        return call_void(bus, "Reapply");
}

Status call_teardown(sd_bus* bus) {
        return call_void(bus, "Teardown");
}

DaemonStatus probe_kernel_status(const std::filesystem::path& root) {
        DaemonStatus s;
        s.reachable = false;
        s.state = "unreachable";
        if (auto f = read_ipv4_forwarding(); f.ok())
                s.forwarding = f.value();
        if (auto nfnl = NetlinkSocket::open(NETLINK_NETFILTER, false); nfnl.ok()) {
                if (auto counters = read_rule_counters(nfnl.value()); counters.ok()) {
                        s.table_present = counters.value().present;
                        s.counters = counters.value().counters;
                }
        }
        if (auto rtnl = NetlinkSocket::open(NETLINK_ROUTE, false); rtnl.ok()) {
                if (auto routes = read_routes(rtnl.value()); routes.ok())
                        for (const auto& r : routes.value())
                                if (r.protocol == kRouteProtocol && r.gateway)
                                        s.routes.push_back(
                                                {r.destination.str(), r.gateway->str(), true});
        }
        for (const auto& f : FileRegistry(root).recorded())
                s.files.push_back((root / f.relative_path()).string());
        if (auto ct = read_conntrack_usage(); ct.ok()) {
                s.conntrack_count = ct.value().count;
                s.conntrack_max = ct.value().max;
        }
        return s;
}

}  // namespace natd
