#include "manager-bus.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <linux/capability.h>

#include "error.hpp"
#include "kernel-status.hpp"

namespace natd {

namespace {

constexpr const char* kErrorInvalidConfiguration = "io.natd1.Error.InvalidConfiguration";
constexpr const char* kErrorNotReady = "io.natd1.Error.NotReady";
constexpr const char* kErrorFailed = "io.natd1.Error.Failed";

int append_strings(sd_bus_message* m, const std::vector<std::string>& items) {
        int r = sd_bus_message_open_container(m, 'a', "s");
        for (const auto& i : items)
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", i.c_str());
        return r < 0 ? r : sd_bus_message_close_container(m);
}

int append_interface(sd_bus_message* m, const InterfaceStatus& i) {
        int r = sd_bus_message_open_container(m, 'r', "ssissas");
        if (r >= 0)
                r = sd_bus_message_append(m, "ssiss", i.selector.c_str(), i.name.c_str(), i.ifindex,
                                          i.mac.c_str(), i.operstate.c_str());
        if (r >= 0)
                r = append_strings(m, i.addresses);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

int append_routes(sd_bus_message* m, const std::vector<RouteStatus>& routes) {
        int r = sd_bus_message_open_container(m, 'a', "(ssb)");
        for (const auto& route : routes)
                if (r >= 0)
                        r = sd_bus_message_append(m, "(ssb)", route.destination.c_str(),
                                                  route.gateway.c_str(), route.present ? 1 : 0);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

// Property name -> whether it differs between two snapshots, and how it is
// written. One table keeps Get, GetAll and PropertiesChanged in step.
struct Property {
        const char* name;
        const char* signature;
        int (*append)(sd_bus_message* m, const DaemonStatus& s);
        bool (*differs)(const DaemonStatus& a, const DaemonStatus& b);
};

#define NATD_PROPERTY(NAME, SIG, FIELD, APPEND_EXPR)                                               \
        Property {                                                                                 \
                NAME, SIG, [](sd_bus_message* m, const DaemonStatus& s) { return APPEND_EXPR; },   \
                        [](const DaemonStatus& a, const DaemonStatus& b) {                         \
                                return a.FIELD != b.FIELD;                                         \
                        }                                                                          \
        }

const Property kProperties[] = {
        NATD_PROPERTY("State", "s", state, sd_bus_message_append(m, "s", s.state.c_str())),
        NATD_PROPERTY("StateTimestamp", "t", state_since_usec,
                      sd_bus_message_append(m, "t", s.state_since_usec)),
        NATD_PROPERTY("StatusText", "s", status_text,
                      sd_bus_message_append(m, "s", s.status_text.c_str())),
        NATD_PROPERTY("WaitingFor", "as", waiting_for, append_strings(m, s.waiting_for)),
        NATD_PROPERTY("PublicInterface", "(ssissas)", public_interface,
                      append_interface(m, s.public_interface)),
        NATD_PROPERTY("PrivateInterface", "(ssissas)", private_interface,
                      append_interface(m, s.private_interface)),
        NATD_PROPERTY("Forwarding", "b", forwarding,
                      sd_bus_message_append(m, "b", s.forwarding.value_or(false) ? 1 : 0)),
        NATD_PROPERTY("RulesetPresent", "b", table_present,
                      sd_bus_message_append(m, "b", s.table_present ? 1 : 0)),
        NATD_PROPERTY("RulesetVerified", "b", table_verified,
                      sd_bus_message_append(m, "b", s.table_verified ? 1 : 0)),
        NATD_PROPERTY("Routes", "a(ssb)", routes, append_routes(m, s.routes)),
        NATD_PROPERTY("RouteOwner", "s", route_owner,
                      sd_bus_message_append(m, "s", s.route_owner.c_str())),
        NATD_PROPERTY("PersistedFiles", "as", files, append_strings(m, s.files)),
        NATD_PROPERTY("Repairs", "u", repairs, sd_bus_message_append(m, "u", s.repairs)),
        NATD_PROPERTY("LastRepairTimestamp", "t", last_repair_usec,
                      sd_bus_message_append(m, "t", s.last_repair_usec)),
        NATD_PROPERTY("Warnings", "as", warnings, append_strings(m, s.warnings)),
};

#undef NATD_PROPERTY

// The bus policy already limits methods to root; natd checks again so that
// a missing policy file never lets anyone reconfigure the NAT.
int check_privileged(sd_bus_message* m, sd_bus_error* error) {
        const int r = sd_bus_query_sender_privilege(m, CAP_NET_ADMIN);
        if (r < 0)
                return r;
        if (r == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Only root (CAP_NET_ADMIN) may change natd");
        return 1;
}

int reply_status(sd_bus_message* m, sd_bus_error* error, const Status& s, const char* error_name) {
        if (!s.ok())
                return sd_bus_error_set(error, error_name, s.error().c_str());
        return sd_bus_reply_method_return(m, "");
}

}  // namespace

Result<std::unique_ptr<ManagerBus>> ManagerBus::start(sd_bus* bus, ManagerBusBackend& backend) {
        std::unique_ptr<ManagerBus> api(new ManagerBus(bus, backend));

        // The vtables must outlive the registration: static storage.
        static const std::vector<sd_bus_vtable> manager_vtable = [] {
                std::vector<sd_bus_vtable> v{SD_BUS_VTABLE_START(0)};
                for (const auto& p : kProperties)
                        v.push_back(SD_BUS_PROPERTY(p.name, p.signature, get_property, 0,
                                                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE));
                v.push_back(
                        SD_BUS_METHOD("Reload", "", "", method_reload, SD_BUS_VTABLE_UNPRIVILEGED));
                v.push_back(SD_BUS_METHOD("Reapply", "", "", method_reapply,
                                          SD_BUS_VTABLE_UNPRIVILEGED));
                v.push_back(SD_BUS_METHOD("Teardown", "", "", method_teardown,
                                          SD_BUS_VTABLE_UNPRIVILEGED));
                v.push_back(SD_BUS_VTABLE_END);
                return v;
        }();
        static const sd_bus_vtable diagnostic_vtable[] = {
                SD_BUS_VTABLE_START(0),
                SD_BUS_METHOD("GetRuleCounters", "", "a(sstt)", method_get_rule_counters,
                              SD_BUS_VTABLE_UNPRIVILEGED),
                SD_BUS_METHOD("GetConntrack", "", "(tt)", method_get_conntrack,
                              SD_BUS_VTABLE_UNPRIVILEGED),
                SD_BUS_VTABLE_END,
        };

        sd_bus_slot* slot = nullptr;
        int r = sd_bus_add_object_vtable(bus, &slot, kObjectPath, kManagerInterface,
                                         manager_vtable.data(), api.get());
        if (r < 0)
                return errno_error("export " + std::string(kManagerInterface), -r);
        api->manager_slot_.reset(slot);
        r = sd_bus_add_object_vtable(bus, &slot, kObjectPath, kDiagnosticInterface,
                                     diagnostic_vtable, api.get());
        if (r < 0)
                return errno_error("export " + std::string(kDiagnosticInterface), -r);
        api->diagnostic_slot_.reset(slot);
        r = sd_bus_request_name(bus, kBusName, 0);
        if (r < 0)
                return errno_error("own the bus name " + std::string(kBusName), -r);
        return api;
}

void ManagerBus::publish(const DaemonStatus& status) {
        std::vector<const char*> changed;
        for (const auto& p : kProperties)
                if (!published_ || p.differs(*published_, status))
                        changed.push_back(p.name);
        published_ = status;
        if (changed.empty())
                return;
        changed.push_back(nullptr);
        sd_bus_emit_properties_changed_strv(bus_, kObjectPath, kManagerInterface,
                                            const_cast<char**>(changed.data()));
}

int ManagerBus::get_property(sd_bus*, const char*, const char*, const char* property,
                             sd_bus_message* reply, void* userdata, sd_bus_error*) {
        const auto* self = static_cast<ManagerBus*>(userdata);
        const DaemonStatus& s = self->backend_.current_status();
        for (const auto& p : kProperties)
                if (std::strcmp(p.name, property) == 0)
                        return p.append(reply, s);
        return -ENOENT;
}

int ManagerBus::method_reload(sd_bus_message* m, void* userdata, sd_bus_error* error) {
        if (int r = check_privileged(m, error); r <= 0)
                return r;
        auto* self = static_cast<ManagerBus*>(userdata);
        return reply_status(m, error, self->backend_.reload_configuration(),
                            kErrorInvalidConfiguration);
}

int ManagerBus::method_reapply(sd_bus_message* m, void* userdata, sd_bus_error* error) {
        if (int r = check_privileged(m, error); r <= 0)
                return r;
        auto* self = static_cast<ManagerBus*>(userdata);
        return reply_status(m, error, self->backend_.reapply(), kErrorNotReady);
}

int ManagerBus::method_teardown(sd_bus_message* m, void* userdata, sd_bus_error* error) {
        if (int r = check_privileged(m, error); r <= 0)
                return r;
        auto* self = static_cast<ManagerBus*>(userdata);
        return reply_status(m, error, self->backend_.teardown(), kErrorFailed);
}

int ManagerBus::method_get_rule_counters(sd_bus_message* m, void* userdata, sd_bus_error* error) {
        auto* self = static_cast<ManagerBus*>(userdata);
        auto counters = self->backend_.rule_counters();
        if (!counters.ok())
                return sd_bus_error_set(error, kErrorNotReady, counters.error().c_str());
        sd_bus_message* reply = nullptr;
        int r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        SdBusMessagePtr owned(reply);
        r = sd_bus_message_open_container(reply, 'a', "(sstt)");
        for (const auto& c : counters.value())
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(sstt)", c.role.c_str(), c.rule.c_str(),
                                                  c.packets, c.bytes);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(nullptr, reply, nullptr);
}

int ManagerBus::method_get_conntrack(sd_bus_message* m, void*, sd_bus_error* error) {
        auto usage = read_conntrack_usage();
        if (!usage.ok())
                return sd_bus_error_set(error, kErrorFailed, usage.error().c_str());
        return sd_bus_reply_method_return(m, "(tt)", usage.value().count, usage.value().max);
}

}  // namespace natd
