// The EC2 instance metadata service, version 2 (IMDSv2): a session token
// from PUT /latest/api/token, then GETs that carry it. On natd's sd-event
// loop (http-client.hpp): every request is asynchronous, retried with
// backoff on timers, and never holds up the loop. natd's discovery uses it,
// and so will the high-availability pair (instance-role credentials, spot
// interruption notices).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "backoff.hpp"
#include "handles.hpp"
#include "http-client.hpp"
#include "result.hpp"

namespace natd {

struct ImdsOptions {
        std::string endpoint = "http://169.254.169.254";  // or http://[fd00:ec2::254]
        uint32_t token_ttl_sec = 21600;                   // 6 hours, the longest IMDS grants
        uint64_t request_timeout_usec = 1'000'000;
        // Attempts per request: a timeout, a refused connection, a 5xx or
        // 429, a 401 (the token expired: a fresh one is fetched) are retried.
        unsigned max_attempts = 4;
        BackoffPolicy backoff{200'000, 2'000'000};
};

struct ImdsToken {
        std::string value;
        uint64_t fetched_usec = 0;  // CLOCK_MONOTONIC
        uint32_t ttl_sec = 0;       // as the service granted it
};

// Pure: whether `token` must be replaced at `now_usec`. A token is renewed
// ahead of its expiry (a tenth of its lifetime, 1-60 s), so that no request
// goes out with one that expires on the way.
bool imds_token_due(const ImdsToken& token, uint64_t now_usec);

// Pure: the lifetime to count on from the PUT's answer: the TTL header the
// service echoes when it is valid and not longer than asked, else what was
// asked.
uint32_t imds_granted_ttl(const std::map<std::string, std::string>& headers, uint32_t asked);

class ImdsClient {
public:
        // Transport and HTTP failures read "IMDS GET /latest/meta-data/mac:
        // ..."; a 404 carries ENOENT (the item does not exist), a 403 EACCES
        // (the metadata service is turned off for this instance).
        using Callback = std::function<void(Result<std::string>)>;

        static Result<std::unique_ptr<ImdsClient>> create(sd_event* event, ImdsOptions options);
        ImdsClient(const ImdsClient&) = delete;
        ImdsClient& operator=(const ImdsClient&) = delete;
        ~ImdsClient();

        // GET /latest/PATH, e.g. "meta-data/mac". `done` runs once, from the
        // event loop. Requests in flight when the client goes are dropped
        // without their callbacks.
        void get(const std::string& path, Callback done);

        [[nodiscard]] const ImdsOptions& options() const { return options_; }
        // Tokens fetched so far (for status and tests).
        [[nodiscard]] unsigned tokens_fetched() const { return tokens_fetched_; }

private:
        struct Pending {
                std::string path;
                Callback done;
                unsigned attempts = 0;
                Error last_error;
                std::string token;  // the one its last attempt carried
        };
        using PendingPtr = std::shared_ptr<Pending>;

        ImdsClient(sd_event* event, std::unique_ptr<HttpClient> http, ImdsOptions options);
        [[nodiscard]] uint64_t now_usec() const;
        void send(const PendingPtr& p);
        void fetch_token();
        void on_token(Result<HttpResponse> answer);
        void on_answer(const PendingPtr& p, Result<HttpResponse> answer);
        // One attempt failed with `why`: again after a backoff, or the end.
        void attempt_failed(const PendingPtr& p, Error why, bool retry);
        static int on_retry(sd_event_source* source, uint64_t usec, void* client);

        sd_event* event_;
        std::unique_ptr<HttpClient> http_;
        ImdsOptions options_;
        std::optional<ImdsToken> token_;
        bool token_in_flight_ = false;
        unsigned tokens_fetched_ = 0;
        std::vector<PendingPtr> waiting_for_token_;
        std::map<sd_event_source*, std::pair<SdEventSourcePtr, PendingPtr>> retries_;
        std::minstd_rand jitter_;
};

}  // namespace natd
