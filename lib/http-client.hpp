// HTTP requests on natd's one sd-event loop, through libcurl's multi
// interface: curl says which sockets to watch and when it wants to time
// out, sd-event watches them and wakes curl. Nothing blocks the loop and no
// thread is started (curl resolves numeric hosts itself; natd only talks to
// addresses such as the instance metadata service's 169.254.169.254).
#pragma once

#include <cstddef>
#include <cstdint>
#include <curl/curl.h>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "handles.hpp"
#include "result.hpp"

namespace natd {

using CurlMultiPtr = std::unique_ptr<CURLM, FreeWith<curl_multi_cleanup>>;
using CurlEasyPtr = std::unique_ptr<CURL, FreeWith<curl_easy_cleanup>>;
using CurlSlistPtr = std::unique_ptr<curl_slist, FreeWith<curl_slist_free_all>>;

// AWS Signature Version 4, computed by libcurl (CURLOPT_AWS_SIGV4). It
// signs host and x-amz-date, plus x-amz-security-token when the request
// carries that header: temporary credentials need it added to `headers`.
struct AwsSigV4 {
        std::string region;   // "eu-west-1"
        std::string service;  // "ec2"
        std::string access_key_id;
        std::string secret_access_key;
};

struct HttpRequest {
        std::string method = "GET";        // GET, PUT (no body) or POST (`body`)
        std::string url;                   // http://, or https:// when allow_https
        std::vector<std::string> headers;  // "Name: value"
        std::string body;                  // a POST's, sent as it is
        // The metadata service speaks plain HTTP; AWS's APIs TLS, with the
        // system's CA certificates.
        bool allow_https = false;
        std::optional<AwsSigV4> sign;
        uint64_t timeout_usec = 1'000'000;            // the whole transfer
        std::size_t max_body = std::size_t{1} << 20;  // a longer answer is an error
};

struct HttpResponse {
        long status = 0;  // the HTTP status code
        std::string body;
        // Header names in lower case; a repeated header's last value.
        std::map<std::string, std::string> headers;
};

// A transport failure (refused, timed out, too long) is an error; any HTTP
// status, 404 and 500 included, is a response.
using HttpCallback = std::function<void(Result<HttpResponse>)>;

class HttpClient {
public:
        static Result<std::unique_ptr<HttpClient>> create(sd_event* event);
        // Requests still in flight are dropped without their callbacks.
        ~HttpClient();
        HttpClient(const HttpClient&) = delete;
        HttpClient& operator=(const HttpClient&) = delete;

        // Starts `request`; `done` runs once, from the event loop, never from
        // within start(). An error here means `done` never runs.
        Status start(const HttpRequest& request, HttpCallback done);
        [[nodiscard]] std::size_t in_flight() const { return transfers_.size(); }

private:
        struct Transfer {
                CurlEasyPtr easy;
                CurlSlistPtr request_headers;
                HttpCallback done;
                std::string body;
                std::map<std::string, std::string> headers;
                std::size_t max_body = 0;
                bool too_long = false;
                char error[CURL_ERROR_SIZE] = {};
        };

        HttpClient(sd_event* event, CurlMultiPtr multi);
        static int on_socket(CURL* easy, curl_socket_t fd, int what, void* client, void* socketp);
        static int on_timer(CURLM* multi, long timeout_ms, void* client);
        static int on_io(sd_event_source* source, int fd, uint32_t revents, void* client);
        static int on_time(sd_event_source* source, uint64_t usec, void* client);
        static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* transfer);
        static std::size_t on_header(char* data, std::size_t size, std::size_t count,
                                     void* transfer);
        int watch_socket(curl_socket_t fd, int what);
        int arm_timer(long timeout_ms);
        // Hands every finished transfer to its callback.
        void finish_done();

        sd_event* event_;
        CurlMultiPtr multi_;
        std::map<curl_socket_t, SdEventSourcePtr> sockets_;
        SdEventSourcePtr timer_;
        std::map<CURL*, std::unique_ptr<Transfer>> transfers_;
};

}  // namespace natd
