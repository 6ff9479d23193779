#include "http-client.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <sys/epoll.h>
#include <utility>

namespace natd {

namespace {

Error curl_error(const std::string& what, CURLcode code) {
        return Error{what + ": " + curl_easy_strerror(code)};
}

// curl_global_init() once, before the first handle (curl_easy_init() would
// otherwise do it implicitly, which is deprecated).
bool curl_ready() {
        static const bool ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
        return ready;
}

// curl_easy_setopt() through one check: a refused option is a bug or a
// libcurl built without it, and the request must not go out half-configured.
template <typename T>
bool set(CURL* easy, CURLoption option, T value, CURLcode& failed) {
        if (failed != CURLE_OK)
                return false;
        failed = curl_easy_setopt(easy, option, value);
        return failed == CURLE_OK;
}

}  // namespace

Result<std::unique_ptr<HttpClient>> HttpClient::create(sd_event* event) {
        if (!curl_ready())
                return Error{"curl_global_init failed"};
        CurlMultiPtr multi{curl_multi_init()};
        if (!multi)
                return Error{"curl_multi_init failed"};
        std::unique_ptr<HttpClient> client{new HttpClient(event, std::move(multi))};
        CURLM* m = client->multi_.get();
        if (curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &HttpClient::on_socket) != CURLM_OK ||
            curl_multi_setopt(m, CURLMOPT_SOCKETDATA, client.get()) != CURLM_OK ||
            curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &HttpClient::on_timer) != CURLM_OK ||
            curl_multi_setopt(m, CURLMOPT_TIMERDATA, client.get()) != CURLM_OK ||
            // A handful of connections to one service at a time; the rest
            // queue in curl and reuse them.
            curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 4L) != CURLM_OK)
                return Error{"curl_multi_setopt failed"};
        return client;
}

HttpClient::HttpClient(sd_event* event, CurlMultiPtr multi)
    : event_(event), multi_(std::move(multi)) {}

HttpClient::~HttpClient() {
        // Removing a handle and cleaning up the multi handle may call
        // on_socket(): the map it edits is still there.
        for (auto& [easy, transfer] : transfers_)
                curl_multi_remove_handle(multi_.get(), easy);
        multi_.reset();
        sockets_.clear();
        timer_.reset();
}

Status HttpClient::start(const HttpRequest& request, HttpCallback done) {
        auto transfer = std::make_unique<Transfer>();
        transfer->easy.reset(curl_easy_init());
        if (!transfer->easy)
                return Error{"curl_easy_init failed"};
        transfer->done = std::move(done);
        transfer->max_body = request.max_body;
        for (const auto& h : request.headers) {
                curl_slist* more = curl_slist_append(transfer->request_headers.get(), h.c_str());
                if (more == nullptr)
                        return Error{"curl_slist_append failed"};
                (void)transfer->request_headers.release();  // now owned by `more`
                transfer->request_headers.reset(more);
        }
        CURL* easy = transfer->easy.get();
        const auto timeout_ms = static_cast<long>(request.timeout_usec / 1000);
        CURLcode failed = CURLE_OK;
        set(easy, CURLOPT_URL, request.url.c_str(), failed);
        // Never through a proxy from the environment (the metadata service
        // answers only the instance itself), no redirects.
        set(easy, CURLOPT_PROTOCOLS_STR, request.allow_https ? "http,https" : "http", failed);
        set(easy, CURLOPT_NOPROXY, "*", failed);
        set(easy, CURLOPT_FOLLOWLOCATION, 0L, failed);
        set(easy, CURLOPT_NOSIGNAL, 1L, failed);
        set(easy, CURLOPT_TIMEOUT_MS, timeout_ms, failed);
        set(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms, failed);
        set(easy, CURLOPT_HTTPHEADER, transfer->request_headers.get(), failed);
        set(easy, CURLOPT_WRITEFUNCTION, &HttpClient::on_body, failed);
        set(easy, CURLOPT_WRITEDATA, transfer.get(), failed);
        set(easy, CURLOPT_HEADERFUNCTION, &HttpClient::on_header, failed);
        set(easy, CURLOPT_HEADERDATA, transfer.get(), failed);
        set(easy, CURLOPT_ERRORBUFFER, transfer->error, failed);
        set(easy, CURLOPT_PRIVATE, transfer.get(), failed);
        if (request.method == "PUT") {
                set(easy, CURLOPT_CUSTOMREQUEST, "PUT", failed);
                set(easy, CURLOPT_POSTFIELDS, "", failed);
                set(easy, CURLOPT_POSTFIELDSIZE, 0L, failed);
        } else if (request.method == "POST") {
                set(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()), failed);
                set(easy, CURLOPT_COPYPOSTFIELDS, request.body.c_str(), failed);
        } else if (request.method != "GET") {
                return Error{"HTTP method " + request.method + " is not supported"};
        }
        if (request.sign) {
                const AwsSigV4& sign = *request.sign;
                // curl copies every string option it is given.
                const std::string provider = "aws:amz:" + sign.region + ":" + sign.service;
                set(easy, CURLOPT_AWS_SIGV4, provider.c_str(), failed);
                set(easy, CURLOPT_USERNAME, sign.access_key_id.c_str(), failed);
                set(easy, CURLOPT_PASSWORD, sign.secret_access_key.c_str(), failed);
        }
        if (failed != CURLE_OK)
                return curl_error("Could not set up the request to " + request.url, failed);
        if (CURLMcode r = curl_multi_add_handle(multi_.get(), easy); r != CURLM_OK)
                return Error{"Could not start the request to " + request.url + ": " +
                             curl_multi_strerror(r)};
        transfers_.emplace(easy, std::move(transfer));
        return Ok{};
}

std::size_t HttpClient::on_body(char* data, std::size_t size, std::size_t count, void* transfer) {
        auto* t = static_cast<Transfer*>(transfer);
        const std::size_t n = size * count;
        if (t->body.size() + n > t->max_body) {
                t->too_long = true;
                return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
        }
        t->body.append(data, n);
        return n;
}

std::size_t HttpClient::on_header(char* data, std::size_t size, std::size_t count, void* transfer) {
        auto* t = static_cast<Transfer*>(transfer);
        const std::size_t n = size * count;
        std::string_view line{data, n};
        if (line.starts_with("HTTP/"))
                t->headers.clear();  // a new response (after a 100 Continue)
        const auto colon = line.find(':');
        if (colon == std::string_view::npos)
                return n;
        std::string name{line.substr(0, colon)};
        for (char& c : name)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
                value.remove_prefix(1);
        while (!value.empty() &&
               (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
                value.remove_suffix(1);
        t->headers[name] = std::string(value);
        return n;
}

int HttpClient::on_socket(CURL* /*easy*/, curl_socket_t fd, int what, void* client,
                          void* /*socketp*/) {
        return static_cast<HttpClient*>(client)->watch_socket(fd, what);
}

int HttpClient::watch_socket(curl_socket_t fd, int what) {
        if (what == CURL_POLL_REMOVE) {
                sockets_.erase(fd);
                return 0;
        }
        uint32_t events = 0;
        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
                events |= EPOLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
                events |= EPOLLOUT;
        if (auto it = sockets_.find(fd); it != sockets_.end())
                return sd_event_source_set_io_events(it->second.get(), events) < 0 ? -1 : 0;
        sd_event_source* source = nullptr;
        if (sd_event_add_io(event_, &source, fd, events, &HttpClient::on_io, this) < 0)
                return -1;  // curl fails the transfer
        sockets_.emplace(fd, SdEventSourcePtr{source});
        return 0;
}

int HttpClient::on_timer(CURLM* /*multi*/, long timeout_ms, void* client) {
        return static_cast<HttpClient*>(client)->arm_timer(timeout_ms);
}

int HttpClient::arm_timer(long timeout_ms) {
        if (timeout_ms < 0) {
                if (timer_)
                        sd_event_source_set_enabled(timer_.get(), SD_EVENT_OFF);
                return 0;
        }
        // curl asks for 0 to be woken "at once": from the loop, since
        // calling back into curl from its own callback is not allowed.
        const uint64_t usec = static_cast<uint64_t>(timeout_ms) * 1000;
        if (!timer_) {
                sd_event_source* source = nullptr;
                // Accuracy 1 µs: sd-event's default (0) would let curl's
                // "at once" wait up to 250 ms.
                if (sd_event_add_time_relative(event_, &source, CLOCK_MONOTONIC, usec, 1,
                                               &HttpClient::on_time, this) < 0)
                        return -1;
                timer_.reset(source);
                return 0;
        }
        if (sd_event_source_set_time_relative(timer_.get(), usec) < 0 ||
            sd_event_source_set_enabled(timer_.get(), SD_EVENT_ONESHOT) < 0)
                return -1;
        return 0;
}

int HttpClient::on_io(sd_event_source* /*source*/, int fd, uint32_t revents, void* client) {
        auto* self = static_cast<HttpClient*>(client);
        int flags = 0;
        if ((revents & EPOLLIN) != 0)
                flags |= CURL_CSELECT_IN;
        if ((revents & EPOLLOUT) != 0)
                flags |= CURL_CSELECT_OUT;
        if ((revents & (EPOLLERR | EPOLLHUP)) != 0)
                flags |= CURL_CSELECT_ERR;
        int running = 0;
        curl_multi_socket_action(self->multi_.get(), fd, flags, &running);
        self->finish_done();
        return 0;
}

int HttpClient::on_time(sd_event_source* /*source*/, uint64_t /*usec*/, void* client) {
        auto* self = static_cast<HttpClient*>(client);
        int running = 0;
        curl_multi_socket_action(self->multi_.get(), CURL_SOCKET_TIMEOUT, 0, &running);
        self->finish_done();
        return 0;
}

void HttpClient::finish_done() {
        // Collected first: a callback may start the next request.
        std::vector<std::pair<std::unique_ptr<Transfer>, CURLcode>> done;
        int queued = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &queued)) {
                if (msg->msg != CURLMSG_DONE)
                        continue;
                CURL* easy = msg->easy_handle;
                const CURLcode code = msg->data.result;
                curl_multi_remove_handle(multi_.get(), easy);
                auto it = transfers_.find(easy);
                if (it == transfers_.end())
                        continue;
                done.emplace_back(std::move(it->second), code);
                transfers_.erase(it);
        }
        for (auto& [t, code] : done) {
                char* url = nullptr;
                curl_easy_getinfo(t->easy.get(), CURLINFO_EFFECTIVE_URL, &url);
                const std::string where = url != nullptr ? url : "?";
                if (t->too_long) {
                        t->done(Error{where + ": the answer is longer than " +
                                      std::to_string(t->max_body) + " bytes"});
                } else if (code != CURLE_OK) {
                        std::string message = where + ": ";
                        message += t->error[0] != '\0' ? t->error : curl_easy_strerror(code);
                        t->done(Error{std::move(message),
                                      code == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : EIO});
                } else {
                        HttpResponse r;
                        curl_easy_getinfo(t->easy.get(), CURLINFO_RESPONSE_CODE, &r.status);
                        r.body = std::move(t->body);
                        r.headers = std::move(t->headers);
                        t->done(std::move(r));
                }
        }
}

}  // namespace natd
