#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "metrics.hpp"

using natd::MetricsSnapshot;
using natd::render_metrics;

namespace {

MetricsSnapshot minimal() {
        MetricsSnapshot s;
        s.state = "ready";
        s.states = {"waiting", "ready"};
        s.repairs_by_part = {{"ruleset", 0}};
        return s;
}

}  // namespace

TEST_CASE("metrics: label values are escaped", "[metrics]") {
        CHECK(natd::escape_label_value("ens5") == "ens5");
        CHECK(natd::escape_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
        auto s = minimal();
        s.ena = {{"we\"ird\n", {{"pps_allowance_exceeded", 1, true}}}};
        CHECK(render_metrics(s).find(
                      "natd_ena_pps_allowance_exceeded_total{interface=\"we\\\"ird\\n\"} 1\n") !=
              std::string::npos);
}

TEST_CASE("metrics: the whole exposition of a ready NAT", "[metrics]") {
        MetricsSnapshot s;
        s.state = "ready";
        s.states = {"waiting", "configuring", "ready", "degraded", "failed"};
        s.rules = std::vector<natd::RuleCounter>{
                {"masquerade", "", 3, 180},  {"drop-invalid", "", 1, 40},
                {"drop-invalid", "", 2, 80}, {"forward-out", "", 10, 1000},
                {"forward-out", "", 5, 500}, {"drop-out", "", 4, 160},
                {"return-in", "", 12, 9000}, {"drop-in", "", 0, 0},
                {"drop-hairpin", "", 0, 0},  {"drop-other", "", 7, 700},
        };
        s.conntrack_entries = 42;
        s.conntrack_limit = 262144;
        s.conntrack_stats = natd::ConntrackStats{.insert_failed = 3, .drop = 1};
        s.repairs = 2;
        s.repairs_by_part = {{"forwarding", 0}, {"ruleset", 2}};
        s.snat_addresses = 1;
        s.ena = {{"ens5",
                  {{"bw_in_allowance_exceeded", 5, true},
                   {"conntrack_allowance_available", 1000, false}}},
                 {"ens6", {{"bw_in_allowance_exceeded", 6, true}}}};
        CHECK(render_metrics(s) ==
              "# HELP natd_up 1 while natd runs; 0 in the file a stopping natd leaves.\n"
              "# TYPE natd_up gauge\n"
              "natd_up 1\n"
              "# HELP natd_state 1 for natd's current state, 0 for the others.\n"
              "# TYPE natd_state gauge\n"
              "natd_state{state=\"waiting\"} 0\n"
              "natd_state{state=\"configuring\"} 0\n"
              "natd_state{state=\"ready\"} 1\n"
              "natd_state{state=\"degraded\"} 0\n"
              "natd_state{state=\"failed\"} 0\n"
              "# HELP natd_nat_packets_total Packets natd forwarded as NAT traffic: out, private "
              "hosts to the internet (forward-out rules); in, the replies (return-in rules).\n"
              "# TYPE natd_nat_packets_total counter\n"
              "natd_nat_packets_total{direction=\"out\"} 15\n"
              "natd_nat_packets_total{direction=\"in\"} 12\n"
              "# HELP natd_nat_bytes_total Bytes of natd_nat_packets_total, IP headers included.\n"
              "# TYPE natd_nat_bytes_total counter\n"
              "natd_nat_bytes_total{direction=\"out\"} 1500\n"
              "natd_nat_bytes_total{direction=\"in\"} 9000\n"
              "# HELP natd_nat_connections_total Connections natd translated: the packets of "
              "its masquerade or snat rules, which see each connection's first packet only.\n"
              "# TYPE natd_nat_connections_total counter\n"
              "natd_nat_connections_total 3\n"
              "# HELP natd_dropped_packets_total Packets natd's forward chain dropped, by the "
              "rule's role without \"drop-\" (doc/ruleset.txt).\n"
              "# TYPE natd_dropped_packets_total counter\n"
              "natd_dropped_packets_total{reason=\"invalid\"} 3\n"
              "natd_dropped_packets_total{reason=\"out\"} 4\n"
              "natd_dropped_packets_total{reason=\"in\"} 0\n"
              "natd_dropped_packets_total{reason=\"hairpin\"} 0\n"
              "natd_dropped_packets_total{reason=\"other\"} 7\n"
              "# HELP natd_conntrack_entries Connections conntrack tracks now.\n"
              "# TYPE natd_conntrack_entries gauge\n"
              "natd_conntrack_entries 42\n"
              "# HELP natd_conntrack_entries_limit The most connections conntrack tracks "
              "(nf_conntrack_max).\n"
              "# TYPE natd_conntrack_entries_limit gauge\n"
              "natd_conntrack_entries_limit 262144\n"
              "# HELP natd_conntrack_insert_failed_total New connections conntrack could not "
              "insert, such as a NAT mapping clashing with an existing one (source port "
              "allocation).\n"
              "# TYPE natd_conntrack_insert_failed_total counter\n"
              "natd_conntrack_insert_failed_total 3\n"
              "# HELP natd_conntrack_drop_total New connections dropped because the conntrack "
              "table was full.\n"
              "# TYPE natd_conntrack_drop_total counter\n"
              "natd_conntrack_drop_total 1\n"
              "# HELP natd_repairs_total Times natd restored a part it owns after something "
              "else undid it.\n"
              "# TYPE natd_repairs_total counter\n"
              "natd_repairs_total{part=\"forwarding\"} 0\n"
              "natd_repairs_total{part=\"ruleset\"} 2\n"
              "# HELP natd_snat_addresses Addresses NAT traffic leaves from: the SNAT pool's "
              "size, 1 with masquerade.\n"
              "# TYPE natd_snat_addresses gauge\n"
              "natd_snat_addresses 1\n"
              "# HELP natd_ena_bw_in_allowance_exceeded_total Packets queued or dropped because "
              "inbound bandwidth exceeded the instance's allowance. ENA driver statistic "
              "bw_in_allowance_exceeded, by interface.\n"
              "# TYPE natd_ena_bw_in_allowance_exceeded_total counter\n"
              "natd_ena_bw_in_allowance_exceeded_total{interface=\"ens5\"} 5\n"
              "natd_ena_bw_in_allowance_exceeded_total{interface=\"ens6\"} 6\n"
              "# HELP natd_ena_conntrack_allowance_available Connections EC2's connection "
              "tracking can still track for the instance. ENA driver statistic "
              "conntrack_allowance_available, by interface.\n"
              "# TYPE natd_ena_conntrack_allowance_available gauge\n"
              "natd_ena_conntrack_allowance_available{interface=\"ens5\"} 1000\n");
}

TEST_CASE("metrics: what was not read is left out, not rendered as 0", "[metrics]") {
        const std::string text = render_metrics(minimal());
        CHECK(text.find("natd_nat_packets_total") == std::string::npos);
        CHECK(text.find("natd_conntrack") == std::string::npos);
        CHECK(text.find("natd_snat_addresses") == std::string::npos);
        CHECK(text.find("natd_ena_") == std::string::npos);
        CHECK(text.find("natd_repairs_total{part=\"ruleset\"} 0\n") != std::string::npos);
        CHECK(text.ends_with("\n"));
}

TEST_CASE("metrics: a stopping natd renders natd_up 0 only", "[metrics]") {
        auto s = minimal();
        s.up = false;
        CHECK(render_metrics(s) ==
              "# HELP natd_up 1 while natd runs; 0 in the file a stopping natd leaves.\n"
              "# TYPE natd_up gauge\n"
              "natd_up 0\n");
}

TEST_CASE("metrics: natd_snat_addresses counts the pool, 1 for masquerade", "[metrics]") {
        natd::NatRulesetInput input;
        input.public_ifname = "ens5";
        input.private_ifname = "ens6";
        input.source_cidrs = {natd::Ipv4Cidr::parse("10.0.1.0/24").value(),
                              natd::Ipv4Cidr::parse("10.0.2.0/24").value()};
        CHECK(natd::snat_address_count(natd::make_nat_ruleset(input)) == 1);
        input.snat_addresses = {natd::Ipv4Address::parse("10.0.0.10").value(),
                                natd::Ipv4Address::parse("10.0.0.11").value(),
                                natd::Ipv4Address::parse("10.0.0.12").value()};
        CHECK(natd::snat_address_count(natd::make_nat_ruleset(input)) == 3);
        CHECK(natd::snat_address_count(natd::RulesetPlan{}) == 0);
}

TEST_CASE("metrics: the pair's role, the floating address, transitions", "[metrics]") {
        natd::MetricsSnapshot s;
        s.state = "ready";
        s.states = {"ready"};
        CHECK(natd::render_metrics(s).find("natd_ha_") == std::string::npos);
        s.ha = natd::HaMetrics{.role = "standby",
                               .holds_floating_address = false,
                               .transitions = 2,
                               .last_transition_usec = uint64_t{1'234'567},
                               .sync_internal_entries = 3,
                               .sync_external_entries = 9,
                               .sync_lost_messages = 1,
                               .sync_errors = 0};
        const std::string text = natd::render_metrics(s);
        for (const char* line :
             {"natd_ha_role{role=\"active\"} 0\n", "natd_ha_role{role=\"standby\"} 1\n",
              "natd_ha_floating_address_held 0\n", "natd_ha_transitions_total 2\n",
              "natd_ha_last_transition_seconds 1.234\n",
              "# TYPE natd_ha_transitions_total counter\n",
              "natd_ha_sync_entries{cache=\"internal\"} 3\n",
              "natd_ha_sync_entries{cache=\"external\"} 9\n",
              "natd_ha_sync_lost_messages_total 1\n", "natd_ha_sync_errors_total 0\n"}) {
                CAPTURE(line);
                CHECK(text.find(line) != std::string::npos);
        }
        s.ha->last_transition_usec.reset();
        CHECK(natd::render_metrics(s).find("natd_ha_last_transition_seconds") == std::string::npos);
}
