#include "manager-client.hpp"

#include <cstring>
#include <string>

#include <linux/netlink.h>

#include "bus-schema.hpp"
#include "file-registry.hpp"
#include "forwarding.hpp"
#include "kernel-status.hpp"
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

// Calls a method without arguments; its reply's values go into `into`.
Status call(sd_bus* bus, bus::MethodId id, DaemonStatus& into) {
        const bus::Method& method = bus::method(id);
        BusError error;
        sd_bus_message* reply = nullptr;
        int r = sd_bus_call_method(bus, kBusName, kObjectPath, method.interface, method.name,
                                   &error.e, &reply, "");
        SdBusMessagePtr owned(reply);
        if (r >= 0)
                r = method.read_reply(reply, into);
        if (r < 0)
                return Error{std::string(method.name) + " failed: " + error.str(r), -r};
        return Ok{};
}

Status call_void(sd_bus* bus, bus::MethodId id) {
        DaemonStatus unused;
        return call(bus, id, unused);
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
                return Error{"natd does not answer on the system bus: " + error.str(r), -r};

        DaemonStatus s;
        s.reachable = true;
        if (r = bus::read_properties(reply, kManagerInterface, s); r < 0)
                return errno_error("parse natd's properties", -r);

        // The counters are extras: natd has none before it applied (NotReady),
        // and the status is worth showing without them. A reply counts whole
        // or not at all.
        for (const auto id : {bus::MethodId::GetRuleCounters, bus::MethodId::GetConntrack}) {
                DaemonStatus with_reply = s;
                if (call(bus, id, with_reply).ok())
                        s = std::move(with_reply);
        }
        return s;
}

Status call_reload(sd_bus* bus) {
        return call_void(bus, bus::MethodId::Reload);
}

Status call_reapply(sd_bus* bus) {
        return call_void(bus, bus::MethodId::Reapply);
}

Status call_teardown(sd_bus* bus) {
        return call_void(bus, bus::MethodId::Teardown);
}

Status call_ha_handover(sd_bus* bus) {
        return call_void(bus, bus::MethodId::HaHandover);
}

Status call_ha_notify(sd_bus* bus, const std::string& state) {
        const bus::Method& method = bus::method(bus::MethodId::HaNotify);
        BusError error;
        sd_bus_message* reply = nullptr;
        const int r = sd_bus_call_method(bus, kBusName, kObjectPath, method.interface, method.name,
                                         &error.e, &reply, "s", state.c_str());
        SdBusMessagePtr owned(reply);
        if (r < 0)
                return Error{std::string(method.name) + " failed: " + error.str(r), -r};
        return Ok{};
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
