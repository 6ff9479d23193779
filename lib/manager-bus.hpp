// natd's D-Bus API, io.natd1 (doc/manager-api.txt): the Manager's state as
// properties with PropertiesChanged, Reload() and Reapply(), and the
// Diagnostic interface's counters.
#pragma once

#include <memory>
#include <optional>

#include "daemon-status.hpp"
#include "handles.hpp"
#include "result.hpp"

namespace natd {

inline constexpr const char* kBusName = "io.natd1";
inline constexpr const char* kObjectPath = "/io/natd1";
inline constexpr const char* kManagerInterface = "io.natd1.Manager";
inline constexpr const char* kDiagnosticInterface = "io.natd1.Diagnostic";

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
        static int method_reload(sd_bus_message* m, void* userdata, sd_bus_error* error);
        static int method_reapply(sd_bus_message* m, void* userdata, sd_bus_error* error);
        static int method_teardown(sd_bus_message* m, void* userdata, sd_bus_error* error);
        static int method_get_rule_counters(sd_bus_message* m, void* userdata, sd_bus_error* error);
        static int method_get_conntrack(sd_bus_message* m, void* userdata, sd_bus_error* error);

        sd_bus* bus_;
        ManagerBusBackend& backend_;
        SdBusSlotPtr manager_slot_;
        SdBusSlotPtr diagnostic_slot_;
        std::optional<DaemonStatus> published_;
};

}  // namespace natd
