// natd's small HTTP endpoints: [Metrics] Listen= (GET /metrics) and
// [Health] Listen= (GET /health), each a path and a handler. GNU
// libmicrohttpd parses HTTP, in its external event loop
// mode (MHD_USE_EPOLL, no internal thread): its epoll descriptor is an
// io source of natd's sd-event loop, MHD_run() runs when it is readable,
// and a timer honours MHD_get_timeout() (connection timeouts, and work
// MHD has left for the next call). natd stays one thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <systemd/sd-event.h>

#include "handles.hpp"
#include "ipv4.hpp"
#include "result.hpp"

namespace natd {

struct HttpServerRequest {
        std::string path;  // "/health", without the query
        // The query's arguments, decoded ("role" -> "active").
        std::map<std::string, std::string> query;
};

struct HttpServerResponse {
        unsigned status = 200;
        std::string body;
        std::string content_type = "text/plain; charset=utf-8";
};

class HttpServer {
public:
        // Answers a GET or HEAD of its path, as of now.
        using Handler = std::function<HttpServerResponse(const HttpServerRequest&)>;
        using Routes = std::map<std::string, Handler>;  // path -> handler

        // Binds `at` and serves `routes` on `loop`; an error ("Could not
        // listen on 127.0.0.1:9647 for metrics: Address already in use")
        // when it cannot. `purpose` names the endpoint in logs and errors.
        static Result<std::unique_ptr<HttpServer>> start(sd_event* loop, const Ipv4Endpoint& at,
                                                         std::string purpose, Routes routes);
        ~HttpServer() = default;
        HttpServer(const HttpServer&) = delete;
        HttpServer& operator=(const HttpServer&) = delete;

        [[nodiscard]] const Ipv4Endpoint& endpoint() const { return at_; }
        [[nodiscard]] std::vector<std::string> paths() const;

private:
        HttpServer(sd_event* loop, Ipv4Endpoint at, std::string purpose, Routes routes)
            : loop_(loop), at_(at), purpose_(std::move(purpose)), routes_(std::move(routes)) {}
        Status attach();
        void run();
        static MHD_Result answer(void* cls, MHD_Connection* connection, const char* url,
                                 const char* method, const char* version, const char* upload_data,
                                 size_t* upload_data_size, void** request);
        static void log(void* cls, const char* format, va_list args);

        sd_event* loop_;
        Ipv4Endpoint at_;
        std::string purpose_;
        Routes routes_;
        std::string last_log_;  // MHD's last complaint, for the bind error
        // Declared before the sources: they go first, the daemon (which
        // owns the epoll descriptor) last.
        MhdDaemonPtr daemon_;
        SdEventSourcePtr io_;
        SdEventSourcePtr timer_;
};

// natd's part of answering a request libmicrohttpd has parsed: METHOD on
// URL (the path, without the query) with the query's decoded arguments. 404
// naming the paths served, 405 for anything but GET and HEAD (with the Allow
// header's value), otherwise the route's handler. Pure, for the fuzz target.
struct HttpServerAnswer {
        HttpServerResponse response;
        const char* allow = nullptr;  // the Allow header, when not null
};
HttpServerAnswer http_server_answer(const HttpServer::Routes& routes, const std::string& url,
                                    std::string_view method,
                                    std::map<std::string, std::string> query);

}  // namespace natd
