// natd-imds-probe ENDPOINT [OPTIONS]: natd's IMDS client and discovery
// (lib/imds-*.hpp) on an sd-event loop of their own, against ENDPOINT (the
// integration tests' fake metadata service). Prints one JSON line per
// round: what discover_instance() found, the tokens fetched so far, the
// round's time, and how late a 10 ms timer ticking meanwhile ran at worst
// (the loop must never wait on the network).
//   --rounds N          discover N times (default 1)
//   --interval-ms MS    between rounds (default 0)
//   --ttl SEC           the token lifetime asked for (default 21600)
//   --timeout-ms MS     per request (default 1000)
//   --attempts N        per request (default 4)
// Exit status 0, or 1 when a round found no ENI at all.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <json-c/json.h>
#include <string>
#include <string_view>

#include <systemd/sd-event.h>

#include "handles.hpp"
#include "imds-client.hpp"
#include "imds-discovery.hpp"

namespace {

json_object* strings(const std::vector<std::string>& v) {
        json_object* a = json_object_new_array();
        for (const auto& s : v)
                json_object_array_add(a, json_object_new_string(s.c_str()));
        return a;
}

template <typename T>
json_object* texts(const std::vector<T>& v) {
        std::vector<std::string> s;
        for (const auto& x : v)
                s.push_back(x.str());
        return strings(s);
}

json_object* number_or_null(const std::optional<unsigned>& n) {
        return n ? json_object_new_int64(*n) : nullptr;
}

json_object* to_json(const natd::InstanceMetadata& m) {
        json_object* o = json_object_new_object();
        json_object_object_add(o, "instance_id", json_object_new_string(m.instance_id.c_str()));
        json_object_object_add(o, "primary_mac",
                               m.primary_mac ? json_object_new_string(m.primary_mac->str().c_str())
                                             : nullptr);
        json_object* enis = json_object_new_array();
        for (const auto& e : m.enis) {
                json_object* j = json_object_new_object();
                json_object_object_add(j, "mac", json_object_new_string(e.mac.str().c_str()));
                json_object_object_add(j, "device_number", number_or_null(e.device_number));
                json_object_object_add(j, "network_card", number_or_null(e.network_card));
                json_object_object_add(j, "interface_id",
                                       json_object_new_string(e.interface_id.c_str()));
                json_object_object_add(j, "subnet",
                                       e.subnet ? json_object_new_string(e.subnet->str().c_str())
                                                : nullptr);
                json_object_object_add(j, "vpc_cidrs", texts(e.vpc_cidrs));
                json_object_object_add(j, "local_ipv4s", texts(e.local_ipv4s));
                json_object_object_add(j, "public_ipv4s", texts(e.public_ipv4s));
                json_object* associations = json_object_new_object();
                for (const auto& a : e.associations)
                        json_object_object_add(associations, a.public_ip.str().c_str(),
                                               json_object_new_string(a.private_ip.str().c_str()));
                json_object_object_add(j, "associations", associations);
                json_object_object_add(j, "problems", strings(e.problems));
                json_object_array_add(enis, j);
        }
        json_object_object_add(o, "enis", enis);
        json_object_object_add(o, "problems", strings(m.problems));
        return o;
}

struct Probe {
        sd_event* event = nullptr;
        natd::ImdsClient* client = nullptr;
        unsigned rounds = 1;
        unsigned round = 0;
        uint64_t interval_usec = 0;
        uint64_t round_start = 0;
        uint64_t tick_due = 0;
        uint64_t worst_lateness = 0;
        bool found_nothing = false;
        natd::SdEventSourcePtr ticker;
        natd::SdEventSourcePtr pause;
};

uint64_t now(sd_event* e) {
        uint64_t t = 0;
        sd_event_now(e, CLOCK_MONOTONIC, &t);
        return t;
}

constexpr uint64_t kTickUsec = 10'000;

int on_tick(sd_event_source* source, uint64_t /*usec*/, void* data) {
        auto* p = static_cast<Probe*>(data);
        const uint64_t t = now(p->event);
        if (t > p->tick_due)
                p->worst_lateness = std::max(p->worst_lateness, t - p->tick_due);
        p->tick_due = t + kTickUsec;
        sd_event_source_set_time(source, p->tick_due);
        return 0;
}

void start_round(Probe& p);

int on_pause_done(sd_event_source* /*source*/, uint64_t /*usec*/, void* data) {
        start_round(*static_cast<Probe*>(data));
        return 0;
}

void start_round(Probe& p) {
        p.round_start = now(p.event);
        p.worst_lateness = 0;
        p.tick_due = p.round_start + kTickUsec;
        sd_event_source_set_time(p.ticker.get(), p.tick_due);
        natd::discover_instance(*p.client, [&p](natd::InstanceMetadata m) {
                json_object* o = to_json(m);
                json_object_object_add(o, "round", json_object_new_int64(++p.round));
                json_object_object_add(o, "tokens_fetched",
                                       json_object_new_int64(p.client->tokens_fetched()));
                json_object_object_add(o, "elapsed_ms",
                                       json_object_new_int64(static_cast<int64_t>(
                                               (now(p.event) - p.round_start) / 1000)));
                json_object_object_add(
                        o, "max_timer_lateness_ms",
                        json_object_new_int64(static_cast<int64_t>(p.worst_lateness / 1000)));
                std::puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
                std::fflush(stdout);
                json_object_put(o);
                p.found_nothing = p.found_nothing || m.enis.empty();
                if (p.round >= p.rounds) {
                        sd_event_exit(p.event, 0);
                        return;
                }
                sd_event_source* s = nullptr;
                sd_event_add_time_relative(p.event, &s, CLOCK_MONOTONIC, p.interval_usec, 1000,
                                           on_pause_done, &p);
                p.pause.reset(s);
        });
}

unsigned number_arg(const char* text) {
        char* end = nullptr;
        const unsigned long v = std::strtoul(text, &end, 10);
        if (*text == '\0' || *end != '\0') {
                std::fprintf(stderr, "natd-imds-probe: '%s' is not a number\n", text);
                std::exit(2);
        }
        return static_cast<unsigned>(v);
}

}  // namespace

int main(int argc, char** argv) {
        if (argc < 2) {
                std::fprintf(stderr,
                             "usage: natd-imds-probe ENDPOINT [--rounds N] [--interval-ms MS] "
                             "[--ttl SEC] [--timeout-ms MS] [--attempts N]\n");
                return 2;
        }
        natd::ImdsOptions options;
        options.endpoint = argv[1];
        Probe p;
        for (int i = 2; i + 1 < argc; i += 2) {
                const std::string_view flag = argv[i];
                const unsigned v = number_arg(argv[i + 1]);
                if (flag == "--rounds")
                        p.rounds = v;
                else if (flag == "--interval-ms")
                        p.interval_usec = uint64_t{v} * 1000;
                else if (flag == "--ttl")
                        options.token_ttl_sec = v;
                else if (flag == "--timeout-ms")
                        options.request_timeout_usec = uint64_t{v} * 1000;
                else if (flag == "--attempts")
                        options.max_attempts = v;
                else {
                        std::fprintf(stderr, "natd-imds-probe: unknown option %s\n", argv[i]);
                        return 2;
                }
        }
        sd_event* raw = nullptr;
        if (sd_event_new(&raw) < 0)
                return 1;
        natd::SdEventPtr event{raw};
        auto client = natd::ImdsClient::create(raw, options);
        if (!client.ok()) {
                std::fprintf(stderr, "natd-imds-probe: %s\n", client.error().c_str());
                return 1;
        }
        p.event = raw;
        p.client = client.value().get();
        sd_event_source* ticker = nullptr;
        sd_event_add_time(raw, &ticker, CLOCK_MONOTONIC, UINT64_MAX, 1, on_tick, &p);
        p.ticker.reset(ticker);
        sd_event_source_set_enabled(ticker, SD_EVENT_ON);
        start_round(p);
        const int r = sd_event_loop(raw);
        p.ticker.reset();
        p.pause.reset();
        client.value().reset();
        if (r < 0)
                return 1;
        return p.found_nothing ? 1 : 0;
}
