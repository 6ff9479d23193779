// io.natd1 described once (doc/manager-api.txt, doc/io.natd1.xml): every
// property with how it is written from a DaemonStatus and read back into
// one, and every method with its arguments, who may call it and its errors.
// natd's vtables (manager-bus.cpp), natd-ctl's reader (manager-client.cpp)
// and the committed introspection XML are all driven from these tables, so
// adding a property is one row in bus-schema.cpp.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include <systemd/sd-bus.h>

#include "daemon-status.hpp"

namespace natd {

inline constexpr const char* kBusName = "io.natd1";
inline constexpr const char* kObjectPath = "/io/natd1";
inline constexpr const char* kManagerInterface = "io.natd1.Manager";
inline constexpr const char* kDiagnosticInterface = "io.natd1.Diagnostic";

namespace bus {

// sd-bus style: >= 0 on success, a negative errno on failure (-ENXIO when
// the message holds another type than the signature says).
using StatusWriter = int (*)(sd_bus_message* m, const DaemonStatus& s);
using StatusReader = int (*)(sd_bus_message* m, DaemonStatus& s);

// Every property is read-only (natd's state changes through its methods)
// and emits PropertiesChanged.
struct Property {
        const char* interface;
        const char* name;
        const char* signature;  // one complete type
        StatusWriter write;     // the value, from the DaemonStatus field(s) it shows
        StatusReader read;      // ... back into them
        bool (*differs)(const DaemonStatus& a, const DaemonStatus& b);
};

// What natd does for a call; the daemon dispatches on it (manager-bus.cpp).
// Each has one row in bus-schema.cpp's table, in this order.
enum class MethodId {
        Reload,
        Reapply,
        Teardown,
        GetRuleCounters,
        GetConntrack,
        HaNotify,
        HaHandover
};

// Who may call a method. The bus policy (systemd/io.natd1.conf) says the
// same; natd checks again so that a missing policy file lets no one in.
enum class Caller { Anyone, NetAdmin };

struct Method {
        MethodId id;
        Caller caller;  // others are answered AccessDenied
        const char* interface;
        const char* name;
        const char* in_signature;
        // The reply's arguments, written from and read into the DaemonStatus
        // fields they carry (an empty reply writes and reads nothing).
        const char* out_signature;
        StatusWriter write_reply;
        StatusReader read_reply;
        // The error natd answers when the operation itself fails.
        const char* failure_error;
};

// The interfaces of kObjectPath, in the order natd exports them.
std::span<const char* const> interfaces();
std::span<const Property> properties();
std::span<const Method> methods();

const Method& method(MethodId id);
// nullptr when the schema has no such member.
const Property* find_property(std::string_view interface, std::string_view name);
const Method* find_method(std::string_view interface, std::string_view name);

// Every error a call may answer: failure_error, then AccessDenied unless
// anyone may call it (as doc/manager-api.txt lists them).
std::vector<const char*> error_names(const Method& m);

// The complete types of a signature, one per argument: "sa{sv}" -> "s",
// "a{sv}". The signature must be valid.
std::vector<std::string_view> complete_types(std::string_view signature);

// The a{sv} of Properties.GetAll(interface) into s. A property the schema
// does not know (a newer natd's) is skipped; a known one with another
// signature is an error.
int read_properties(sd_bus_message* m, std::string_view interface, DaemonStatus& s);

}  // namespace bus

}  // namespace natd
