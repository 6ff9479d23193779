// natd's side of io.natd1 (doc/manager-api.txt, lib/bus-schema.hpp): the
// Manager's state as properties with PropertiesChanged, its methods, and
// the Diagnostic interface's counters, all exported from the schema.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "bus-schema.hpp"
#include "daemon-status.hpp"
#include "handles.hpp"
#include "result.hpp"

namespace natd {

// What the bus object needs from the daemon; Manager implements it.
class ManagerBusBackend {
public:
        virtual ~ManagerBusBackend() = default;
        [[nodiscard]] virtual const DaemonStatus& current_status() const = 0;
        virtual Status reload_configuration() = 0;
        virtual Status reapply() = 0;
        // Removes everything natd made, then natd exits.
        virtual Status teardown() = 0;
        virtual Result<std::vector<RuleCounter>> rule_counters() = 0;
        // keepalived's notify hook: "master", "backup", "fault" or "stop".
        virtual Status ha_notify(const std::string& state) = 0;
        // natd-ctl ha handover: the peer takes over before this NAT lets go.
        virtual Status ha_handover() = 0;
};

class ManagerBus {
public:
        // Exports the object and requests the well-known name.
        static Result<std::unique_ptr<ManagerBus>> start(sd_bus* bus, ManagerBusBackend& backend);

        // Emits PropertiesChanged for every property that differs from the
        // last published status.
        void publish(const DaemonStatus& status);

private:
        ManagerBus(sd_bus* bus, ManagerBusBackend& backend) : bus_(bus), backend_(backend) {}

        static int get_property(sd_bus* bus, const char* path, const char* interface,
                                const char* property, sd_bus_message* reply, void* userdata,
                                sd_bus_error* error);
        static int call_method(sd_bus_message* m, void* userdata, sd_bus_error* error);
        // Does what the method asks; the reply's values go into `reply`.
        Status run(bus::MethodId method, const std::string& argument, DaemonStatus& reply);

        sd_bus* bus_;
        ManagerBusBackend& backend_;
        std::vector<SdBusSlotPtr> slots_;  // one per interface
        std::optional<DaemonStatus> published_;
};

}  // namespace natd
