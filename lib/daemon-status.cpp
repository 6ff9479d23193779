#include "daemon-status.hpp"

#include <ctime>
#include <json-c/json.h>
#include <memory>

#include "handles.hpp"

namespace natd {

namespace {

using JsonPtr = std::unique_ptr<json_object, FreeWith<json_object_put>>;

json_object* string_array(const std::vector<std::string>& items) {
        json_object* a = json_object_new_array();
        for (const auto& i : items)
                json_object_array_add(a, json_object_new_string(i.c_str()));
        return a;
}

json_object* interface_json(const InterfaceStatus& i) {
        json_object* o = json_object_new_object();
        json_object_object_add(o, "selector", json_object_new_string(i.selector.c_str()));
        json_object_object_add(o, "name",
                               i.name.empty() ? nullptr : json_object_new_string(i.name.c_str()));
        json_object_object_add(o, "ifindex",
                               i.ifindex > 0 ? json_object_new_int(i.ifindex) : nullptr);
        json_object_object_add(o, "mac",
                               i.mac.empty() ? nullptr : json_object_new_string(i.mac.c_str()));
        json_object_object_add(o, "operstate",
                               i.operstate.empty() ? nullptr
                                                   : json_object_new_string(i.operstate.c_str()));
        json_object_object_add(o, "addresses", string_array(i.addresses));
        json_object_object_add(
                o, "source", i.source.empty() ? nullptr : json_object_new_string(i.source.c_str()));
        return o;
}

json_object* string_or_null(const std::string& v) {
        return v.empty() ? nullptr : json_object_new_string(v.c_str());
}

json_object* discovery_json(const DiscoveryStatus& d) {
        json_object* o = json_object_new_object();
        json_object_object_add(o, "imds", string_or_null(d.imds));
        json_object_object_add(o, "endpoint", string_or_null(d.endpoint));
        json_object_object_add(o, "error", string_or_null(d.error));
        json_object_object_add(o, "instance_id", string_or_null(d.instance_id));
        json_object_object_add(o, "notes", string_array(d.notes));
        json_object* enis = json_object_new_array();
        for (const auto& e : d.enis) {
                json_object* j = json_object_new_object();
                json_object_object_add(j, "mac", json_object_new_string(e.mac.c_str()));
                json_object_object_add(j, "interface", string_or_null(e.interface));
                json_object_object_add(j, "interface_id", string_or_null(e.interface_id));
                json_object_object_add(j, "device_number",
                                       e.device_number >= 0 ? json_object_new_int(e.device_number)
                                                            : nullptr);
                json_object_object_add(j, "network_card", json_object_new_int(e.network_card));
                json_object_object_add(j, "subnet", string_or_null(e.subnet));
                json_object_object_add(j, "vpc_cidrs", string_array(e.vpc_cidrs));
                json_object_object_add(j, "local_ipv4s", string_array(e.local_ipv4s));
                json_object_object_add(j, "public_ipv4s", string_array(e.public_ipv4s));
                json_object_array_add(enis, j);
        }
        json_object_object_add(o, "enis", enis);
        return o;
}

// Null without a pair.
json_object* high_availability_json(const HighAvailabilityStatus& h) {
        if (h.role.empty())
                return nullptr;
        json_object* o = json_object_new_object();
        json_object_object_add(o, "role", json_object_new_string(h.role.c_str()));
        json_object_object_add(o, "vrrp", json_object_new_string(h.vrrp.c_str()));
        json_object_object_add(o, "status", json_object_new_string(h.status.c_str()));
        json_object_object_add(o, "peer", json_object_new_string(h.peer.c_str()));
        json_object_object_add(o, "floating_address",
                               json_object_new_string(h.floating_address.c_str()));
        json_object_object_add(o, "holds_floating_address",
                               json_object_new_boolean(h.holds_floating_address));
        json_object_object_add(o, "route_tables", string_array(h.route_tables));
        json_object_object_add(o, "role_since_usec",
                               h.role_since_usec > 0 ? json_object_new_uint64(h.role_since_usec)
                                                     : nullptr);
        json_object* last = nullptr;
        if (!h.last_transition_role.empty()) {
                last = json_object_new_object();
                json_object_object_add(last, "role",
                                       json_object_new_string(h.last_transition_role.c_str()));
                json_object_object_add(last, "since_usec",
                                       json_object_new_uint64(h.last_transition_usec));
                json_object_object_add(last, "duration_usec",
                                       json_object_new_uint64(h.last_transition_duration_usec));
        }
        json_object_object_add(o, "last_transition", last);
        json_object* steps = json_object_new_array();
        for (const auto& st : h.steps) {
                json_object* j = json_object_new_object();
                json_object_object_add(j, "step", json_object_new_string(st.step.c_str()));
                json_object_object_add(j, "state", json_object_new_string(st.state.c_str()));
                json_object_object_add(j, "failures", json_object_new_uint64(st.failures));
                json_object_object_add(j, "error", string_or_null(st.error));
                json_object_array_add(steps, j);
        }
        json_object_object_add(o, "steps", steps);
        json_object_object_add(o, "ec2_endpoint", string_or_null(h.ec2_endpoint));
        json_object_object_add(o, "region", string_or_null(h.region));
        json_object_object_add(o, "instance_role", string_or_null(h.instance_role));
        json_object* sync = json_object_new_object();
        json_object_object_add(sync, "internal_entries",
                               json_object_new_uint64(h.sync_internal_entries));
        json_object_object_add(sync, "external_entries",
                               json_object_new_uint64(h.sync_external_entries));
        json_object_object_add(sync, "packets_sent", json_object_new_uint64(h.sync_packets_sent));
        json_object_object_add(sync, "packets_received",
                               json_object_new_uint64(h.sync_packets_received));
        json_object_object_add(sync, "errors", json_object_new_uint64(h.sync_errors));
        json_object_object_add(sync, "lost_messages", json_object_new_uint64(h.sync_lost_messages));
        json_object_object_add(sync, "error", string_or_null(h.sync_error));
        json_object_object_add(o, "sync", sync);
        return o;
}

json_object* uint_or_null(const std::optional<uint64_t>& v) {
        return v ? json_object_new_uint64(*v) : nullptr;
}

std::string format_time(uint64_t usec) {
        const auto t = static_cast<time_t>(usec / 1000000);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[64];
        std::strftime(buf, sizeof(buf), "%a %Y-%m-%d %H:%M:%S UTC", &tm);
        return buf;
}

std::string format_ago(uint64_t then_usec, uint64_t now_usec) {
        const uint64_t s = now_usec > then_usec ? (now_usec - then_usec) / 1000000 : 0;
        if (s < 60)
                return std::to_string(s) + "s ago";
        if (s < 3600)
                return std::to_string(s / 60) + "min " + std::to_string(s % 60) + "s ago";
        if (s < 86400)
                return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "min ago";
        return std::to_string(s / 86400) + "d " + std::to_string(s % 86400 / 3600) + "h ago";
}

class Painter {
public:
        explicit Painter(bool color) : color_(color) {}
        [[nodiscard]] std::string green(const std::string& s) const { return paint("32", s); }
        [[nodiscard]] std::string red(const std::string& s) const { return paint("31", s); }
        [[nodiscard]] std::string yellow(const std::string& s) const { return paint("33", s); }
        [[nodiscard]] std::string bold(const std::string& s) const { return paint("1", s); }
        [[nodiscard]] std::string dot(const std::string& state) const {
                if (state == "ready")
                        return green("●");
                if (state == "failed" || state == "unreachable")
                        return red("●");
                return yellow("●");
        }

private:
        [[nodiscard]] std::string paint(const char* code, const std::string& s) const {
                return color_ ? "\033[" + std::string(code) + "m" + s + "\033[0m" : s;
        }
        bool color_;
};

std::string interface_line(const InterfaceStatus& i) {
        if (i.selector == "none" && i.name.empty())
                return "none (single ENI: the public ENI relays)\n";
        std::string line = i.selector + " → ";
        if (i.name.empty())
                return line + "(not found)\n";
        line += i.name + " (ifindex " + std::to_string(i.ifindex) + ")";
        if (!i.mac.empty())
                line += ", " + i.mac;
        if (!i.operstate.empty())
                line += ", " + i.operstate;
        for (const auto& a : i.addresses)
                line += ", " + a;
        return line + "\n";
}

}  // namespace

int status_exit_code(const DaemonStatus& s) {
        if (!s.reachable)
                return kStatusUnreachable;
        return s.state == "ready" ? kStatusReady : kStatusNotReady;
}

std::string format_status_json(const DaemonStatus& s) {
        JsonPtr root(json_object_new_object());
        json_object* o = root.get();
        json_object_object_add(o, "reachable", json_object_new_boolean(s.reachable));
        json_object_object_add(
                o, "state", json_object_new_string(s.reachable ? s.state.c_str() : "unreachable"));
        json_object_object_add(o, "since_usec",
                               s.state_since_usec > 0 ? json_object_new_uint64(s.state_since_usec)
                                                      : nullptr);
        json_object_object_add(o, "status", json_object_new_string(s.status_text.c_str()));
        json_object_object_add(o, "waiting_for", string_array(s.waiting_for));
        json_object_object_add(o, "public", interface_json(s.public_interface));
        json_object_object_add(o, "private", interface_json(s.private_interface));
        json_object_object_add(o, "forwarding",
                               s.forwarding ? json_object_new_boolean(*s.forwarding) : nullptr);

        json_object* nft = json_object_new_object();
        json_object_object_add(nft, "table", json_object_new_string("ip natd"));
        json_object_object_add(nft, "present", json_object_new_boolean(s.table_present));
        json_object_object_add(nft, "verified", json_object_new_boolean(s.table_verified));
        json_object* counters = json_object_new_array();
        for (const auto& c : s.counters) {
                json_object* r = json_object_new_object();
                json_object_object_add(r, "role", json_object_new_string(c.role.c_str()));
                json_object_object_add(r, "rule", json_object_new_string(c.rule.c_str()));
                json_object_object_add(r, "packets", json_object_new_uint64(c.packets));
                json_object_object_add(r, "bytes", json_object_new_uint64(c.bytes));
                json_object_array_add(counters, r);
        }
        json_object_object_add(nft, "counters", counters);
        json_object_object_add(o, "nftables", nft);

        json_object* routes = json_object_new_array();
        for (const auto& r : s.routes) {
                json_object* e = json_object_new_object();
                json_object_object_add(e, "destination",
                                       json_object_new_string(r.destination.c_str()));
                json_object_object_add(e, "gateway", json_object_new_string(r.gateway.c_str()));
                json_object_object_add(e, "present", json_object_new_boolean(r.present));
                json_object_array_add(routes, e);
        }
        json_object_object_add(o, "routes", routes);
        json_object_object_add(
                o, "route_owner",
                s.route_owner.empty() ? nullptr : json_object_new_string(s.route_owner.c_str()));
        json_object_object_add(
                o, "flow_offload",
                s.flow_offload.empty() ? nullptr : json_object_new_string(s.flow_offload.c_str()));
        json_object_object_add(o, "files", string_array(s.files));

        json_object* ct = json_object_new_object();
        json_object_object_add(ct, "count", uint_or_null(s.conntrack_count));
        json_object_object_add(ct, "max", uint_or_null(s.conntrack_max));
        json_object_object_add(o, "conntrack", ct);

        json_object_object_add(o, "repairs", json_object_new_uint64(s.repairs));
        json_object_object_add(o, "last_repair_usec",
                               s.last_repair_usec > 0 ? json_object_new_uint64(s.last_repair_usec)
                                                      : nullptr);
        json_object_object_add(o, "warnings", string_array(s.warnings));
        json_object_object_add(o, "discovery", discovery_json(s.discovery));
        json_object* facts = json_object_new_array();
        for (const auto& f : s.facts) {
                json_object* j = json_object_new_object();
                json_object_object_add(j, "fact", json_object_new_string(f.fact.c_str()));
                json_object_object_add(j, "value", json_object_new_string(f.value.c_str()));
                json_object_object_add(j, "source", json_object_new_string(f.source.c_str()));
                json_object_array_add(facts, j);
        }
        json_object_object_add(o, "facts", facts);
        json_object_object_add(o, "high_availability", high_availability_json(s.high_availability));
        return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE);
}

std::string format_status_text(const DaemonStatus& s, uint64_t now_usec, bool color) {
        const Painter p(color);
        std::string out;
        const std::string state = s.reachable ? s.state : "unreachable";
        out += p.dot(state) + " natd - NAT instance daemon\n";
        std::string state_text = state == "ready"                                ? p.green(state)
                                 : (state == "failed" || state == "unreachable") ? p.red(state)
                                                                                 : p.yellow(state);
        out += "       State: " + p.bold(state_text);
        if (s.state_since_usec > 0)
                out += " since " + format_time(s.state_since_usec) + "; " +
                       format_ago(s.state_since_usec, now_usec);
        out += "\n";
        if (!s.reachable)
                out += "              natd is not running or not reachable on the system bus;\n"
                       "              what follows is natd-ctl's own look at the kernel.\n";
        if (!s.status_text.empty())
                out += "      Status: " + s.status_text + "\n";
        for (const auto& w : s.waiting_for)
                out += " Waiting for: " + w + "\n";
        if (s.reachable) {
                out += "      Public: " + interface_line(s.public_interface);
                out += "     Private: " + interface_line(s.private_interface);
        }
        if (s.forwarding)
                out += "  Forwarding: " + (*s.forwarding ? p.green("on") : p.red("off")) +
                       " (net.ipv4.ip_forward)\n";
        out += "    nftables: table ip natd " +
               (s.table_present ? (s.reachable ? (s.table_verified ? p.green("verified")
                                                                   : p.red("differs from the plan"))
                                               : std::string("present"))
                                : p.red("missing")) +
               "\n";
        for (const auto& c : s.counters)
                out += "              " + c.role + ": " + std::to_string(c.packets) + " packets, " +
                       std::to_string(c.bytes) + " bytes  (" + c.rule + ")\n";
        if (s.routes.empty()) {
                out += "      Routes: none planned\n";
        } else {
                bool first = true;
                for (const auto& r : s.routes) {
                        out += std::string(first ? "      Routes: " : "              ") +
                               r.destination + " via " + r.gateway + " " +
                               (r.present ? p.green("present") : p.red("missing")) + "\n";
                        first = false;
                }
                if (!s.route_owner.empty())
                        out += "              installed by " +
                               std::string(s.route_owner == "networkd" ? "systemd-networkd"
                                                                       : "natd") +
                               "\n";
        }
        if (!s.flow_offload.empty())
                out += " FlowOffload: " + s.flow_offload + "\n";
        bool first = true;
        for (const auto& f : s.files) {
                out += std::string(first ? "       Files: " : "              ") + f + "\n";
                first = false;
        }
        if (s.conntrack_count && s.conntrack_max)
                out += "   Conntrack: " + std::to_string(*s.conntrack_count) + " of " +
                       std::to_string(*s.conntrack_max) + " entries in use\n";
        if (s.reachable) {
                out += "     Repairs: " + std::to_string(s.repairs);
                if (s.last_repair_usec > 0)
                        out += ", last " + format_time(s.last_repair_usec) + "; " +
                               format_ago(s.last_repair_usec, now_usec);
                out += "\n";
        }
        if (!s.discovery.imds.empty()) {
                out += "        IMDS: " + s.discovery.imds;
                if (!s.discovery.instance_id.empty())
                        out += ", instance " + s.discovery.instance_id;
                if (!s.discovery.error.empty())
                        out += " (" + s.discovery.error + ")";
                out += "\n";
                for (const auto& e : s.discovery.enis) {
                        out += "              " + e.mac + " " +
                               (e.interface.empty() ? "(no link)" : e.interface) +
                               (e.interface_id.empty() ? "" : " " + e.interface_id) +
                               ", device-number " +
                               (e.device_number >= 0 ? std::to_string(e.device_number) : "?");
                        if (!e.subnet.empty())
                                out += ", subnet " + e.subnet;
                        for (const auto& ip : e.public_ipv4s)
                                out += ", public " + ip;
                        out += "\n";
                }
                for (const auto& n : s.discovery.notes)
                        out += "              " + p.yellow("Note") + ": " + n + "\n";
        }
        first = true;
        for (const auto& f : s.facts) {
                out += std::string(first ? "       Facts: " : "              ") + f.fact + ": " +
                       f.value + " (" + f.source + ")\n";
                first = false;
        }
        if (const auto& h = s.high_availability; !h.role.empty()) {
                out += "        Pair: " + h.role + " (keepalived: " + h.vrrp + "), peer " + h.peer +
                       ", floating address " + h.floating_address +
                       (h.holds_floating_address ? " (held here)" : " (not here)") + "\n";
                out += "              " + h.status + "\n";
                out += "              sync: " +
                       (h.sync_error.empty()
                                ? std::to_string(h.sync_internal_entries) + " connections here, " +
                                          std::to_string(h.sync_external_entries) +
                                          " of the peer's, " +
                                          std::to_string(h.sync_lost_messages) + " messages lost"
                                : h.sync_error) +
                       "\n";
                if (!h.last_transition_role.empty())
                        out += "              last change: " + h.last_transition_role + " in " +
                               std::to_string(h.last_transition_duration_usec / 1000) + " ms, " +
                               format_ago(h.last_transition_usec, now_usec) + "\n";
        }
        for (const auto& w : s.warnings)
                out += "     " + p.yellow("Warning") + ": " + w + "\n";
        return out;
}

}  // namespace natd
