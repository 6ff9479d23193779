#include "metrics.hpp"

#include <algorithm>

namespace natd {

namespace {

class Exposition {
public:
        void family(std::string_view name, std::string_view type, std::string_view help) {
                out_ += "# HELP ";
                out_ += name;
                out_ += ' ';
                out_ += help;
                out_ += "\n# TYPE ";
                out_ += name;
                out_ += ' ';
                out_ += type;
                out_ += '\n';
        }
        void sample(std::string_view name, uint64_t value) { sample(name, {}, {}, value); }
        void sample(std::string_view name, std::string_view label, std::string_view label_value,
                    uint64_t value) {
                out_ += name;
                if (!label.empty()) {
                        out_ += '{';
                        out_ += label;
                        out_ += "=\"";
                        out_ += escape_label_value(label_value);
                        out_ += "\"}";
                }
                out_ += ' ';
                out_ += std::to_string(value);
                out_ += '\n';
        }
        // A decimal value (seconds): three decimals, as the text format takes them.
        void sample_seconds(std::string_view name, uint64_t usec) {
                out_ += name;
                out_ += ' ';
                out_ += std::to_string(usec / 1'000'000);
                const uint64_t ms = (usec / 1000) % 1000;
                out_ += '.';
                out_ += static_cast<char>('0' + ms / 100);
                out_ += static_cast<char>('0' + (ms / 10) % 10);
                out_ += static_cast<char>('0' + ms % 10);
                out_ += '\n';
        }
        [[nodiscard]] std::string take() { return std::move(out_); }

private:
        std::string out_;
};

struct Traffic {
        uint64_t packets = 0;
        uint64_t bytes = 0;
};

Traffic sum_role(const std::vector<RuleCounter>& rules, std::string_view role) {
        Traffic t;
        for (const auto& r : rules)
                if (r.role == role) {
                        t.packets += r.packets;
                        t.bytes += r.bytes;
                }
        return t;
}

void render_nat(Exposition& e, const std::vector<RuleCounter>& rules) {
        const Traffic out = sum_role(rules, kOutRole);
        const Traffic in = sum_role(rules, kInRole);
        e.family("natd_nat_packets_total", "counter",
                 "Packets natd forwarded as NAT traffic: out, private hosts to the internet "
                 "(forward-out rules); in, the replies (return-in rules).");
        e.sample("natd_nat_packets_total", "direction", "out", out.packets);
        e.sample("natd_nat_packets_total", "direction", "in", in.packets);
        e.family("natd_nat_bytes_total", "counter",
                 "Bytes of natd_nat_packets_total, IP headers included.");
        e.sample("natd_nat_bytes_total", "direction", "out", out.bytes);
        e.sample("natd_nat_bytes_total", "direction", "in", in.bytes);

        e.family("natd_nat_connections_total", "counter",
                 "Connections natd translated: the packets of its masquerade or snat rules, which "
                 "see each connection's first packet only.");
        e.sample("natd_nat_connections_total",
                 sum_role(rules, kMasqueradeRole).packets + sum_role(rules, kSnatRole).packets);

        // One series per drop role in the table, in the table's order.
        std::vector<std::pair<std::string, uint64_t>> drops;
        for (const auto& r : rules) {
                if (!r.role.starts_with(kDropRolePrefix))
                        continue;
                const std::string reason = r.role.substr(kDropRolePrefix.size());
                auto it = std::find_if(drops.begin(), drops.end(),
                                       [&](const auto& d) { return d.first == reason; });
                if (it == drops.end())
                        drops.emplace_back(reason, r.packets);
                else
                        it->second += r.packets;
        }
        e.family("natd_dropped_packets_total", "counter",
                 "Packets natd's forward chain dropped, by the rule's role without \"drop-\" "
                 "(doc/ruleset.txt).");
        for (const auto& [reason, packets] : drops)
                e.sample("natd_dropped_packets_total", "reason", reason, packets);
}

}  // namespace

uint64_t snat_address_count(const RulesetPlan& ruleset) {
        std::vector<Ipv4Address> pool;
        bool masquerade = false;
        for (const auto& r : ruleset.rules) {
                if (r.role == RuleRole::Snat &&
                    std::find(pool.begin(), pool.end(), r.snat_to) == pool.end())
                        pool.push_back(r.snat_to);
                masquerade = masquerade || r.role == RuleRole::Masquerade;
        }
        if (!pool.empty())
                return pool.size();
        return masquerade ? 1 : 0;
}

std::string escape_label_value(std::string_view value) {
        std::string out;
        out.reserve(value.size());
        for (const char c : value) {
                if (c == '\\')
                        out += "\\\\";
                else if (c == '"')
                        out += "\\\"";
                else if (c == '\n')
                        out += "\\n";
                else
                        out += c;
        }
        return out;
}

std::string render_metrics(const MetricsSnapshot& s) {
        Exposition e;
        e.family("natd_up", "gauge", "1 while natd runs; 0 in the file a stopping natd leaves.");
        e.sample("natd_up", s.up ? 1 : 0);
        if (!s.up)
                return e.take();

        e.family("natd_state", "gauge", "1 for natd's current state, 0 for the others.");
        for (const auto& state : s.states)
                e.sample("natd_state", "state", state, state == s.state ? 1 : 0);

        if (s.rules)
                render_nat(e, *s.rules);

        if (s.conntrack_entries) {
                e.family("natd_conntrack_entries", "gauge", "Connections conntrack tracks now.");
                e.sample("natd_conntrack_entries", *s.conntrack_entries);
        }
        if (s.conntrack_limit) {
                e.family("natd_conntrack_entries_limit", "gauge",
                         "The most connections conntrack tracks (nf_conntrack_max).");
                e.sample("natd_conntrack_entries_limit", *s.conntrack_limit);
        }
        if (s.conntrack_stats) {
                e.family("natd_conntrack_insert_failed_total", "counter",
                         "New connections conntrack could not insert, such as a NAT mapping "
                         "clashing with an existing one (source port allocation).");
                e.sample("natd_conntrack_insert_failed_total", s.conntrack_stats->insert_failed);
                e.family("natd_conntrack_drop_total", "counter",
                         "New connections dropped because the conntrack table was full.");
                e.sample("natd_conntrack_drop_total", s.conntrack_stats->drop);
        }

        e.family("natd_repairs_total", "counter",
                 "Times natd restored a part it owns after something else undid it.");
        for (const auto& [part, count] : s.repairs_by_part)
                e.sample("natd_repairs_total", "part", part, count);

        if (s.snat_addresses) {
                e.family("natd_snat_addresses", "gauge",
                         "Addresses NAT traffic leaves from: the SNAT pool's size, 1 with "
                         "masquerade.");
                e.sample("natd_snat_addresses", *s.snat_addresses);
        }

        if (s.ha) {
                e.family("natd_ha_role", "gauge",
                         "1 for this NAT's role in its high-availability pair, 0 for the others.");
                for (const char* role : {"active", "standby", "fault", "stopped", "starting"})
                        e.sample("natd_ha_role", "role", role, s.ha->role == role ? 1 : 0);
                e.family("natd_ha_floating_address_held", "gauge",
                         "1 while the pair's floating address is on this NAT's public ENI.");
                e.sample("natd_ha_floating_address_held", s.ha->holds_floating_address ? 1 : 0);
                e.family("natd_ha_transitions_total", "counter",
                         "Role changes completed (a takeover confirmed by EC2, a standby ready).");
                e.sample("natd_ha_transitions_total", s.ha->transitions);
                if (s.ha->sync_internal_entries && s.ha->sync_external_entries) {
                        e.family("natd_ha_sync_entries", "gauge",
                                 "Connections in conntrackd's caches: internal (this NAT's), "
                                 "external (the peer's, committed on a takeover).");
                        e.sample("natd_ha_sync_entries", "cache", "internal",
                                 *s.ha->sync_internal_entries);
                        e.sample("natd_ha_sync_entries", "cache", "external",
                                 *s.ha->sync_external_entries);
                }
                if (s.ha->sync_lost_messages) {
                        e.family("natd_ha_sync_lost_messages_total", "counter",
                                 "State-sync messages conntrackd noticed lost.");
                        e.sample("natd_ha_sync_lost_messages_total", *s.ha->sync_lost_messages);
                }
                if (s.ha->sync_errors) {
                        e.family("natd_ha_sync_errors_total", "counter",
                                 "State-sync messages conntrackd could not send or receive.");
                        e.sample("natd_ha_sync_errors_total", *s.ha->sync_errors);
                }
                if (s.ha->last_transition_usec) {
                        e.family("natd_ha_last_transition_seconds", "gauge",
                                 "How long the last completed role change took, from "
                                 "keepalived's notify until the role was in place.");
                        e.sample_seconds("natd_ha_last_transition_seconds",
                                         *s.ha->last_transition_usec);
                }
        }

        // One family per ENA statistic, a series per interface.
        std::vector<std::pair<std::string, bool>> names;
        for (const auto& i : s.ena)
                for (const auto& stat : i.stats)
                        if (std::find(names.begin(), names.end(),
                                      std::pair{stat.name, stat.counter}) == names.end())
                                names.emplace_back(stat.name, stat.counter);
        for (const auto& [name, counter] : names) {
                const std::string metric = "natd_ena_" + name + (counter ? "_total" : "");
                std::string help(ena_stat_meaning(name));
                help += " ENA driver statistic " + name + ", by interface.";
                e.family(metric, counter ? "counter" : "gauge", help);
                for (const auto& i : s.ena)
                        for (const auto& stat : i.stats)
                                if (stat.name == name)
                                        e.sample(metric, "interface", i.interface, stat.value);
        }
        return e.take();
}

}  // namespace natd
