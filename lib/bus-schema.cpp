#include "bus-schema.hpp"

#include <cerrno>
#include <iterator>

#include "bus-codec.hpp"

namespace natd::bus {

template <>
struct Codec<InterfaceStatus>
    : StructCodec<InterfaceStatus, &InterfaceStatus::selector, &InterfaceStatus::name,
                  &InterfaceStatus::ifindex, &InterfaceStatus::mac, &InterfaceStatus::operstate,
                  &InterfaceStatus::addresses, &InterfaceStatus::source> {};
template <>
struct Codec<EniStatus>
    : StructCodec<EniStatus, &EniStatus::mac, &EniStatus::interface, &EniStatus::interface_id,
                  &EniStatus::device_number, &EniStatus::network_card, &EniStatus::subnet,
                  &EniStatus::vpc_cidrs, &EniStatus::local_ipv4s, &EniStatus::public_ipv4s> {};
template <>
struct Codec<DiscoveryStatus>
    : StructCodec<DiscoveryStatus, &DiscoveryStatus::imds, &DiscoveryStatus::endpoint,
                  &DiscoveryStatus::error, &DiscoveryStatus::instance_id, &DiscoveryStatus::notes,
                  &DiscoveryStatus::enis> {};
template <>
struct Codec<HaStepStatus> : StructCodec<HaStepStatus, &HaStepStatus::step, &HaStepStatus::state,
                                         &HaStepStatus::failures, &HaStepStatus::error> {};
template <>
struct Codec<HighAvailabilityStatus>
    : StructCodec<HighAvailabilityStatus, &HighAvailabilityStatus::role,
                  &HighAvailabilityStatus::vrrp, &HighAvailabilityStatus::status,
                  &HighAvailabilityStatus::peer, &HighAvailabilityStatus::floating_address,
                  &HighAvailabilityStatus::holds_floating_address,
                  &HighAvailabilityStatus::route_tables, &HighAvailabilityStatus::role_since_usec,
                  &HighAvailabilityStatus::last_transition_role,
                  &HighAvailabilityStatus::last_transition_usec,
                  &HighAvailabilityStatus::last_transition_duration_usec,
                  &HighAvailabilityStatus::steps, &HighAvailabilityStatus::ec2_endpoint,
                  &HighAvailabilityStatus::region, &HighAvailabilityStatus::instance_role,
                  &HighAvailabilityStatus::sync_internal_entries,
                  &HighAvailabilityStatus::sync_external_entries,
                  &HighAvailabilityStatus::sync_packets_sent,
                  &HighAvailabilityStatus::sync_packets_received,
                  &HighAvailabilityStatus::sync_errors, &HighAvailabilityStatus::sync_lost_messages,
                  &HighAvailabilityStatus::sync_error> {};
template <>
struct Codec<FactStatus>
    : StructCodec<FactStatus, &FactStatus::fact, &FactStatus::value, &FactStatus::source> {};
template <>
struct Codec<RouteStatus> : StructCodec<RouteStatus, &RouteStatus::destination,
                                        &RouteStatus::gateway, &RouteStatus::present> {};
template <>
struct Codec<RuleCounter> : StructCodec<RuleCounter, &RuleCounter::role, &RuleCounter::rule,
                                        &RuleCounter::packets, &RuleCounter::bytes> {};

namespace {

constexpr const char* kErrorInvalidConfiguration = "io.natd1.Error.InvalidConfiguration";
constexpr const char* kErrorNotReady = "io.natd1.Error.NotReady";
constexpr const char* kErrorFailed = "io.natd1.Error.Failed";
constexpr const char* kErrorInvalidArgument = "io.natd1.Error.InvalidArgument";
constexpr const char* kErrorNotActive = "io.natd1.Error.NotActive";

constexpr const char* kInterfaces[] = {kManagerInterface, kDiagnosticInterface};

// A Manager property showing one DaemonStatus field.
template <auto Field>
constexpr Property manager_property(const char* name) {
        using C = FieldCodec<Field>;
        return {kManagerInterface, name, C::signature.c_str(), &C::write, &C::read, &C::differs};
}

constexpr Property kProperties[] = {
        manager_property<&DaemonStatus::state>("State"),
        manager_property<&DaemonStatus::state_since_usec>("StateTimestamp"),
        manager_property<&DaemonStatus::status_text>("StatusText"),
        manager_property<&DaemonStatus::waiting_for>("WaitingFor"),
        manager_property<&DaemonStatus::public_interface>("PublicInterface"),
        manager_property<&DaemonStatus::private_interface>("PrivateInterface"),
        manager_property<&DaemonStatus::forwarding>("Forwarding"),
        manager_property<&DaemonStatus::table_present>("RulesetPresent"),
        manager_property<&DaemonStatus::table_verified>("RulesetVerified"),
        manager_property<&DaemonStatus::routes>("Routes"),
        manager_property<&DaemonStatus::route_owner>("RouteOwner"),
        manager_property<&DaemonStatus::flow_offload>("FlowOffload"),
        manager_property<&DaemonStatus::files>("PersistedFiles"),
        manager_property<&DaemonStatus::repairs>("Repairs"),
        manager_property<&DaemonStatus::last_repair_usec>("LastRepairTimestamp"),
        manager_property<&DaemonStatus::warnings>("Warnings"),
        manager_property<&DaemonStatus::discovery>("Discovery"),
        manager_property<&DaemonStatus::facts>("Facts"),
        manager_property<&DaemonStatus::high_availability>("HighAvailability"),
};

// A method without arguments whose reply carries what Reply writes.
template <typename Reply = NoValue<DaemonStatus>>
constexpr Method method_row(MethodId id, const char* interface, const char* name, Caller caller,
                            const char* failure_error) {
        return {.id = id,
                .caller = caller,
                .interface = interface,
                .name = name,
                .in_signature = "",
                .out_signature = Reply::signature.c_str(),
                .write_reply = &Reply::write,
                .read_reply = &Reply::read,
                .failure_error = failure_error};
}

using RuleCountersReply = FieldCodec<&DaemonStatus::counters>;
using ConntrackReply =
        StructCodec<DaemonStatus, &DaemonStatus::conntrack_count, &DaemonStatus::conntrack_max>;

// In MethodId order.
constexpr Method kMethods[] = {
        method_row(MethodId::Reload, kManagerInterface, "Reload", Caller::NetAdmin,
                   kErrorInvalidConfiguration),
        method_row(MethodId::Reapply, kManagerInterface, "Reapply", Caller::NetAdmin,
                   kErrorNotReady),
        method_row(MethodId::Teardown, kManagerInterface, "Teardown", Caller::NetAdmin,
                   kErrorFailed),
        method_row<RuleCountersReply>(MethodId::GetRuleCounters, kDiagnosticInterface,
                                      "GetRuleCounters", Caller::Anyone, kErrorNotReady),
        method_row<ConntrackReply>(MethodId::GetConntrack, kDiagnosticInterface, "GetConntrack",
                                   Caller::Anyone, kErrorFailed),
        // keepalived's notify hook (natd-ctl ha notify STATE): one string.
        [] {
                Method m = method_row(MethodId::HaNotify, kManagerInterface, "HaNotify",
                                      Caller::NetAdmin, kErrorInvalidArgument);
                m.in_signature = "s";
                return m;
        }(),
        method_row(MethodId::HaHandover, kManagerInterface, "HaHandover", Caller::NetAdmin,
                   kErrorNotActive),
};

constexpr bool in_id_order() {
        for (size_t i = 0; i < std::size(kMethods); ++i)
                if (kMethods[i].id != static_cast<MethodId>(i))
                        return false;
        return true;
}
static_assert(in_id_order(), "kMethods must list the methods in MethodId order");

}  // namespace

std::span<const char* const> interfaces() {
        return kInterfaces;
}

std::span<const Property> properties() {
        return kProperties;
}

std::span<const Method> methods() {
        return kMethods;
}

const Method& method(MethodId id) {
        return kMethods[static_cast<size_t>(id)];
}

const Property* find_property(std::string_view interface, std::string_view name) {
        for (const auto& p : kProperties)
                if (p.interface == interface && p.name == name)
                        return &p;
        return nullptr;
}

const Method* find_method(std::string_view interface, std::string_view name) {
        for (const auto& m : kMethods)
                if (m.interface == interface && m.name == name)
                        return &m;
        return nullptr;
}

std::vector<const char*> error_names(const Method& m) {
        std::vector<const char*> names{m.failure_error};
        if (m.caller == Caller::NetAdmin)
                names.push_back(SD_BUS_ERROR_ACCESS_DENIED);
        return names;
}

std::vector<std::string_view> complete_types(std::string_view signature) {
        std::vector<std::string_view> types;
        size_t start = 0;
        int depth = 0;
        for (size_t i = 0; i < signature.size(); ++i) {
                const char c = signature[i];
                if (c == '(' || c == '{')
                        ++depth;
                else if (c == ')' || c == '}')
                        --depth;
                // An array's 'a' is the start of its element's type.
                if (depth == 0 && c != 'a') {
                        types.push_back(signature.substr(start, i + 1 - start));
                        start = i + 1;
                }
        }
        return types;
}

int read_properties(sd_bus_message* m, std::string_view interface, DaemonStatus& s) {
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r <= 0)
                return r == 0 ? -ENXIO : r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char* name = nullptr;
                if (r = sd_bus_message_read_basic(m, 's', &name); r < 0)
                        return r;
                const Property* p = find_property(interface, name);
                if (p == nullptr) {
                        r = sd_bus_message_skip(m, "v");
                } else {
                        // -ENXIO when natd sends another type than the schema's.
                        r = sd_bus_message_enter_container(m, 'v', p->signature);
                        if (r >= 0)
                                r = p->read(m, s);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        return r < 0 ? r : sd_bus_message_exit_container(m);
}

}  // namespace natd::bus
