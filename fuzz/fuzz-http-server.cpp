// natd's own part of answering HTTP on [Metrics] Listen= and [Health]
// Listen= (lib/http-server.hpp http_server_answer, lib/health.hpp): the
// route and method decision and /health's reading of its query. The raw
// request is libmicrohttpd's to parse; what it hands natd is a method, a
// path and decoded arguments, so the input is lines: the method, the path,
// the pair role natd reports, then one "key=value" argument per line.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "fuzz-input.hpp"
#include "health.hpp"
#include "http-server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
        const auto lines = natd::fuzz::split(natd::fuzz::as_text(data, size), "\n");
        const std::string_view method = lines[0];
        const std::string url(lines.size() > 1 ? lines[1] : "/");
        const std::string role(lines.size() > 2 ? lines[2] : "");
        std::map<std::string, std::string> query;
        for (size_t i = 3; i < lines.size(); ++i) {
                const size_t eq = lines[i].find('=');
                query.insert_or_assign(std::string(lines[i].substr(0, eq)),
                                       eq == std::string_view::npos
                                               ? std::string()
                                               : std::string(lines[i].substr(eq + 1)));
        }
        // Both endpoints on one server, as when Listen= is the same for
        // both; the states are those natd reports.
        natd::DaemonStatus status;
        status.state = (size % 2 == 0) ? "ready" : "degraded";
        status.status_text = "fuzzing";
        natd::HttpServer::Routes routes;
        routes.emplace("/metrics", [](const natd::HttpServerRequest&) {
                return natd::HttpServerResponse{200, "natd_up 1\n", "text/plain"};
        });
        routes.emplace(natd::kHealthPath, [&](const natd::HttpServerRequest& request) {
                natd::HealthAnswer a = natd::health_answer(status, role, request.query);
                return natd::HttpServerResponse{a.status, std::move(a.body), "application/json"};
        });
        (void)natd::http_server_answer(routes, url, method, std::move(query));
        return 0;
}
