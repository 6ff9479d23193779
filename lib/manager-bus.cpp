#include "manager-bus.hpp"

#include <cerrno>
#include <string>
#include <vector>

#include <linux/capability.h>

#include "error.hpp"
#include "kernel-status.hpp"

namespace natd {

namespace {

// natd checks CAP_NET_ADMIN itself (check_privileged), so sd-bus's own
// check, which would ask for CAP_SYS_ADMIN, is off for every method.
std::vector<sd_bus_vtable> make_vtable(std::string_view interface,
                                       sd_bus_property_get_t get_property,
                                       sd_bus_message_handler_t call_method) {
        std::vector<sd_bus_vtable> v{SD_BUS_VTABLE_START(0)};
        for (const auto& p : bus::properties())
                if (p.interface == interface)
                        v.push_back(SD_BUS_PROPERTY(p.name, p.signature, get_property, 0,
                                                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE));
        for (const auto& m : bus::methods())
                if (m.interface == interface)
                        v.push_back(SD_BUS_METHOD(m.name, m.in_signature, m.out_signature,
                                                  call_method, SD_BUS_VTABLE_UNPRIVILEGED));
        v.push_back(SD_BUS_VTABLE_END);
        return v;
}

// The bus policy already limits these methods to root; natd checks again so
// that a missing policy file never lets anyone reconfigure the NAT.
int check_privileged(sd_bus_message* m, sd_bus_error* error) {
        const int r = sd_bus_query_sender_privilege(m, CAP_NET_ADMIN);
        if (r < 0)
                return r;
        if (r == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Only root (CAP_NET_ADMIN) may change natd");
        return 1;
}

}  // namespace

Result<std::unique_ptr<ManagerBus>> ManagerBus::start(sd_bus* bus, ManagerBusBackend& backend) {
        std::unique_ptr<ManagerBus> api(new ManagerBus(bus, backend));

        // The vtables must outlive the registration: static storage, one per
        // interface, in the order of bus::interfaces().
        static const std::vector<std::vector<sd_bus_vtable>> vtables = [] {
                std::vector<std::vector<sd_bus_vtable>> all;
                for (const char* interface : bus::interfaces())
                        all.push_back(make_vtable(interface, get_property, call_method));
                return all;
        }();

        for (size_t i = 0; i < vtables.size(); ++i) {
                const char* interface = bus::interfaces()[i];
                sd_bus_slot* slot = nullptr;
                const int r = sd_bus_add_object_vtable(bus, &slot, kObjectPath, interface,
                                                       vtables[i].data(), api.get());
                if (r < 0)
                        return errno_error("export", interface, -r);
                api->slots_.emplace_back(slot);
        }
        if (const int r = sd_bus_request_name(bus, kBusName, 0); r < 0)
                return errno_error("own the bus name", kBusName, -r);
        return api;
}

void ManagerBus::publish(const DaemonStatus& status) {
        for (const char* interface : bus::interfaces()) {
                std::vector<const char*> changed;
                for (const auto& p : bus::properties())
                        if (p.interface == std::string_view(interface) &&
                            (!published_ || p.differs(*published_, status)))
                                changed.push_back(p.name);
                if (changed.empty())
                        continue;
                changed.push_back(nullptr);
                sd_bus_emit_properties_changed_strv(bus_, kObjectPath, interface,
                                                    const_cast<char**>(changed.data()));
        }
        published_ = status;
}

int ManagerBus::get_property(sd_bus*, const char*, const char* interface, const char* property,
                             sd_bus_message* reply, void* userdata, sd_bus_error*) {
        const auto* self = static_cast<ManagerBus*>(userdata);
        const bus::Property* p = bus::find_property(interface, property);
        return p != nullptr ? p->write(reply, self->backend_.current_status()) : -ENOENT;
}

int ManagerBus::call_method(sd_bus_message* m, void* userdata, sd_bus_error* error) {
        // sd-bus runs vtable methods only for calls naming interface and member.
        const bus::Method* method =
                bus::find_method(sd_bus_message_get_interface(m), sd_bus_message_get_member(m));
        if (method == nullptr)
                return -EOPNOTSUPP;
        if (method->caller == bus::Caller::NetAdmin)
                if (const int r = check_privileged(m, error); r <= 0)
                        return r;
        auto* self = static_cast<ManagerBus*>(userdata);
        // The only argument any method takes is one string.
        std::string argument;
        if (std::string_view(method->in_signature) == "s") {
                const char* text = nullptr;
                if (const int r = sd_bus_message_read(m, "s", &text); r < 0)
                        return r;
                argument = text;
        }
        DaemonStatus values;
        if (auto done = self->run(method->id, argument, values); !done.ok())
                return sd_bus_error_set(error, method->failure_error, done.error().c_str());
        sd_bus_message* reply = nullptr;
        int r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        SdBusMessagePtr owned(reply);
        r = method->write_reply(reply, values);
        return r < 0 ? r : sd_bus_send(nullptr, reply, nullptr);
}

Status ManagerBus::run(bus::MethodId method, const std::string& argument, DaemonStatus& reply) {
        switch (method) {
        case bus::MethodId::Reload:
                return backend_.reload_configuration();
        case bus::MethodId::Reapply:
                return backend_.reapply();
        case bus::MethodId::Teardown:
                return backend_.teardown();
        case bus::MethodId::GetRuleCounters: {
                auto counters = backend_.rule_counters();
                if (!counters.ok())
                        return counters.failure();
                reply.counters = std::move(counters).value();
                return Ok{};
        }
        case bus::MethodId::HaNotify:
                return backend_.ha_notify(argument);
        case bus::MethodId::HaHandover:
                return backend_.ha_handover();
        case bus::MethodId::GetConntrack: {
                auto usage = read_conntrack_usage();
                if (!usage.ok())
                        return usage.failure();
                reply.conntrack_count = usage.value().count;
                reply.conntrack_max = usage.value().max;
                return Ok{};
        }
        }
        return Error{"unknown method", EOPNOTSUPP};
}

}  // namespace natd
