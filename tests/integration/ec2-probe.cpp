// natd-ec2-probe IMDS-URL ACTION [NAME=VALUE...] [OPTIONS]: natd's EC2 API
// client (lib/ec2-client.hpp) on an sd-event loop of its own: credentials
// and region from the metadata service at IMDS-URL, then one request
// (ACTION with its parameters), repeated. Prints one JSON line per request:
// {"ok", "error", "body", "ms", "credentials_fetched", "region", "role",
// "endpoint"}.
//   --endpoint URL      the EC2 API (default: the region's)
//   --repeat N          send it N times, one after the other (default 1)
//   --interval-ms MS    between them (default 0)
//   --timeout-ms MS     per attempt (default 10000)
//   --attempts N        per request (default 6)
// Exit status 0 when the last request succeeded, 1 otherwise.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <json-c/json.h>
#include <string>
#include <string_view>

#include <systemd/sd-event.h>

#include "ec2-client.hpp"
#include "handles.hpp"
#include "imds-client.hpp"

namespace {

struct Probe {
        sd_event* event = nullptr;
        natd::Ec2Client* client = nullptr;
        natd::Ec2Request request;
        unsigned repeat = 1;
        unsigned sent = 0;
        uint64_t interval_usec = 0;
        uint64_t started = 0;
        bool last_ok = false;
        natd::SdEventSourcePtr pause;
};

uint64_t now(sd_event* e) {
        uint64_t t = 0;
        sd_event_now(e, CLOCK_MONOTONIC, &t);
        return t;
}

void send(Probe& p);

int on_pause_done(sd_event_source* /*source*/, uint64_t /*usec*/, void* data) {
        send(*static_cast<Probe*>(data));
        return 0;
}

void on_done(Probe& p, const natd::Result<std::string>& result) {
        json_object* o = json_object_new_object();
        json_object_object_add(o, "ok", json_object_new_boolean(result.ok()));
        json_object_object_add(
                o, "error", result.ok() ? nullptr : json_object_new_string(result.error().c_str()));
        json_object_object_add(
                o, "body", result.ok() ? json_object_new_string(result.value().c_str()) : nullptr);
        json_object_object_add(
                o, "ms",
                json_object_new_double(static_cast<double>(now(p.event) - p.started) / 1000.0));
        json_object_object_add(o, "credentials_fetched",
                               json_object_new_int64(p.client->credentials_fetched()));
        json_object_object_add(o, "region", json_object_new_string(p.client->region().c_str()));
        json_object_object_add(o, "role", json_object_new_string(p.client->role().c_str()));
        json_object_object_add(o, "endpoint", json_object_new_string(p.client->endpoint().c_str()));
        std::printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        std::fflush(stdout);
        json_object_put(o);
        p.last_ok = result.ok();
        if (p.sent >= p.repeat) {
                sd_event_exit(p.event, 0);
                return;
        }
        sd_event_source* source = nullptr;
        if (sd_event_add_time_relative(p.event, &source, CLOCK_MONOTONIC, p.interval_usec, 0,
                                       on_pause_done, &p) < 0) {
                sd_event_exit(p.event, 1);
                return;
        }
        p.pause.reset(source);
}

void send(Probe& p) {
        ++p.sent;
        p.started = now(p.event);
        p.client->call(p.request, [&p](natd::Result<std::string> result) { on_done(p, result); });
}

[[noreturn]] void usage() {
        std::fprintf(stderr,
                     "usage: natd-ec2-probe IMDS-URL ACTION [NAME=VALUE...] [--endpoint URL] "
                     "[--repeat N] [--interval-ms MS] [--timeout-ms MS] [--attempts N]\n");
        std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
        if (argc < 3)
                usage();
        natd::ImdsOptions imds_options;
        imds_options.endpoint = argv[1];
        natd::Ec2ClientOptions options;
        Probe p;
        p.request.action = argv[2];
        for (int i = 3; i < argc; ++i) {
                const std::string_view arg = argv[i];
                auto value = [&]() -> const char* {
                        if (i + 1 >= argc)
                                usage();
                        return argv[++i];
                };
                if (arg == "--endpoint")
                        options.endpoint = value();
                else if (arg == "--repeat")
                        p.repeat = static_cast<unsigned>(std::strtoul(value(), nullptr, 10));
                else if (arg == "--interval-ms")
                        p.interval_usec = std::strtoull(value(), nullptr, 10) * 1000;
                else if (arg == "--timeout-ms")
                        options.request_timeout_usec = std::strtoull(value(), nullptr, 10) * 1000;
                else if (arg == "--attempts")
                        options.max_attempts =
                                static_cast<unsigned>(std::strtoul(value(), nullptr, 10));
                else if (const auto eq = arg.find('='); eq != std::string_view::npos)
                        p.request.parameters.emplace_back(arg.substr(0, eq), arg.substr(eq + 1));
                else
                        usage();
        }
        sd_event* raw = nullptr;
        if (sd_event_new(&raw) < 0)
                return 1;
        natd::SdEventPtr event{raw};
        p.event = raw;
        auto imds = natd::ImdsClient::create(raw, imds_options);
        if (!imds.ok()) {
                std::fprintf(stderr, "%s\n", imds.error().c_str());
                return 1;
        }
        auto client = natd::Ec2Client::create(raw, *imds.value(), options);
        if (!client.ok()) {
                std::fprintf(stderr, "%s\n", client.error().c_str());
                return 1;
        }
        p.client = client.value().get();
        send(p);
        const int r = sd_event_loop(raw);
        return r == 0 && p.last_ok ? 0 : 1;
}
