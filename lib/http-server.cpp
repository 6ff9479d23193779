#include "http-server.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <netinet/in.h>
#include <sys/epoll.h>

#include <spdlog/spdlog.h>

namespace natd {

namespace {

// Scrapers and health checkers are few; a bounded server needs little.
constexpr unsigned kConnectionLimit = 16;
constexpr unsigned kConnectionTimeoutSec = 10;
constexpr size_t kConnectionMemory = size_t{32} * 1024;

MHD_Result respond(MHD_Connection* connection, unsigned status, const std::string& body,
                   const char* content_type, const char* allow = nullptr) {
        MhdResponsePtr response(MHD_create_response_from_buffer(
                body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY));
        if (!response)
                return MHD_NO;
        MHD_add_response_header(response.get(), MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        if (allow != nullptr)
                MHD_add_response_header(response.get(), MHD_HTTP_HEADER_ALLOW, allow);
        return MHD_queue_response(connection, status, response.get());
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(sd_event* loop, const Ipv4Endpoint& at,
                                                      std::string purpose, Routes routes) {
        std::unique_ptr<HttpServer> server(
                new HttpServer(loop, at, std::move(purpose), std::move(routes)));
        if (auto s = server->attach(); !s.ok())
                return s.failure();
        return server;
}

Status HttpServer::attach() {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(at_.port);
        address.sin_addr.s_addr = at_.address.network_order();
        errno = 0;
        // No MHD_USE_INTERNAL_POLLING_THREAD: MHD runs only when natd's loop
        // calls MHD_run(). SO_REUSEADDR: a restarted natd binds again at
        // once, whatever connections of the last one linger in TIME_WAIT.
        daemon_.reset(MHD_start_daemon(
                MHD_USE_EPOLL | MHD_USE_ERROR_LOG, at_.port, nullptr, nullptr, &HttpServer::answer,
                this, MHD_OPTION_EXTERNAL_LOGGER, &HttpServer::log, this, MHD_OPTION_SOCK_ADDR,
                reinterpret_cast<const sockaddr*>(&address), MHD_OPTION_LISTENING_ADDRESS_REUSE, 1U,
                MHD_OPTION_CONNECTION_LIMIT, kConnectionLimit, MHD_OPTION_CONNECTION_TIMEOUT,
                kConnectionTimeoutSec, MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory,
                MHD_OPTION_END));
        if (!daemon_) {
                const int e = errno;
                std::string why = !last_log_.empty() ? last_log_
                                  : e != 0           ? std::strerror(e)
                                                     : "libmicrohttpd refused to start";
                return Error{"Could not listen on " + at_.str() + " for " + purpose_ + ": " + why,
                             e != 0 ? e : EADDRNOTAVAIL};
        }
        const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_.get(), MHD_DAEMON_INFO_EPOLL_FD);
        if (info == nullptr)
                return Error{"libmicrohttpd has no epoll descriptor for natd's event loop"};
        sd_event_source* io = nullptr;
        if (int r = sd_event_add_io(
                    loop_, &io, info->epoll_fd, EPOLLIN,
                    [](sd_event_source*, int, uint32_t, void* userdata) {
                            static_cast<HttpServer*>(userdata)->run();
                            return 0;
                    },
                    this);
            r < 0)
                return errno_error("watch the HTTP server for", purpose_, -r);
        io_.reset(io);
        sd_event_source* timer = nullptr;
        if (int r = sd_event_add_time_relative(
                    loop_, &timer, CLOCK_MONOTONIC, 0, 1000,
                    [](sd_event_source*, uint64_t, void* userdata) {
                            static_cast<HttpServer*>(userdata)->run();
                            return 0;
                    },
                    this);
            r < 0)
                return errno_error("arm the timer of the HTTP server for", purpose_, -r);
        timer_.reset(timer);
        sd_event_source_set_enabled(timer, SD_EVENT_OFF);
        for (const auto& [path, handler] : routes_)
                spdlog::info("Serving {} on http://{}{}", purpose_, at_.str(), path);
        return Ok{};
}

std::vector<std::string> HttpServer::paths() const {
        std::vector<std::string> out;
        for (const auto& [path, handler] : routes_)
                out.push_back(path);
        return out;
}

void HttpServer::run() {
        MHD_run(daemon_.get());
        // MHD says when it must run again even without a readable epoll
        // descriptor: a connection timing out, or work left (0 ms).
        MHD_UNSIGNED_LONG_LONG ms = 0;
        if (MHD_get_timeout(daemon_.get(), &ms) != MHD_YES) {
                sd_event_source_set_enabled(timer_.get(), SD_EVENT_OFF);
                return;
        }
        sd_event_source_set_time_relative(timer_.get(), static_cast<uint64_t>(ms) * 1000);
        sd_event_source_set_enabled(timer_.get(), SD_EVENT_ONESHOT);
}

HttpServerAnswer http_server_answer(const HttpServer::Routes& routes, const std::string& url,
                                    std::string_view method,
                                    std::map<std::string, std::string> query) {
        constexpr const char* kText = "text/plain; charset=utf-8";
        const auto route = routes.find(url);
        if (route == routes.end()) {
                std::string served;
                for (const auto& [path, handler] : routes)
                        served += (served.empty() ? "" : ", ") + path;
                return {{404, "Not found: natd serves " + served + " here\n", kText}, nullptr};
        }
        if (method != "GET" && method != "HEAD")
                return {{405, "Method not allowed: GET " + route->first + "\n", kText},
                        "GET, HEAD"};
        HttpServerRequest request;
        request.path = route->first;
        request.query = std::move(query);
        return {route->second(request), nullptr};
}

MHD_Result HttpServer::answer(void* cls, MHD_Connection* connection, const char* url,
                              const char* method, const char* /*version*/,
                              const char* /*upload_data*/, size_t* upload_data_size,
                              void** /*request*/) {
        auto* self = static_cast<HttpServer*>(cls);
        // A request body (there should be none) is not read: the answer
        // goes out on the first call and MHD discards the rest.
        *upload_data_size = 0;
        std::map<std::string, std::string> query;
        MHD_get_connection_values(
                connection, MHD_GET_ARGUMENT_KIND,
                [](void* out, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
                        static_cast<std::map<std::string, std::string>*>(out)->insert_or_assign(
                                key, value != nullptr ? value : "");
                        return MHD_YES;
                },
                &query);
        const HttpServerAnswer a = http_server_answer(self->routes_, url, method, std::move(query));
        return respond(connection, a.response.status, a.response.body,
                       a.response.content_type.c_str(), a.allow);
}

void HttpServer::log(void* cls, const char* format, va_list args) {
        auto* self = static_cast<HttpServer*>(cls);
        char buffer[512];
        // NOLINTNEXTLINE(clang-diagnostic-format-nonliteral): MHD's own format
        std::vsnprintf(buffer, sizeof buffer, format, args);
        std::string line(buffer);
        while (!line.empty() && (line.back() == '\n' || line.back() == ' '))
                line.pop_back();
        // Debug only: a failed bind is logged by natd once per cause (it
        // retries every 15 s), and a scraper's dropped connection is no news.
        spdlog::debug("libmicrohttpd: {}", line);
        self->last_log_ = std::move(line);
}

}  // namespace natd
