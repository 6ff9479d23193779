// The EC2 API (the Query protocol: POST, form-encoded, XML answers) on
// natd's sd-event loop, for the high-availability pair's takeover: moving
// the floating address and the private route tables' default route.
// Requests are signed with Signature Version 4 by libcurl itself, with the
// instance role's temporary credentials from the metadata service (fetched
// when first needed and again before they expire); the region comes from
// the metadata service too. Throttling and server errors are retried with
// backoff; an expired token once, with fresh credentials.
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

#include "aws-credentials.hpp"
#include "backoff.hpp"
#include "ec2-query.hpp"
#include "handles.hpp"
#include "http-client.hpp"
#include "imds-client.hpp"
#include "result.hpp"

namespace natd {

struct Ec2ClientOptions {
        // Empty: https://ec2.REGION.amazonaws.com for the region IMDS names.
        std::string endpoint;
        uint64_t request_timeout_usec = 10'000'000;
        // Attempts per request for throttling, 5xx and transport errors:
        // with the backoff below they span about half a minute.
        unsigned max_attempts = 6;
        BackoffPolicy backoff{250'000, 8'000'000};
};

// The endpoint a region's requests go to.
std::string ec2_regional_endpoint(const std::string& region);

class Ec2Client {
public:
        // Success: the 200 answer's XML. Failure: "EC2 ACTION: CODE: MESSAGE
        // (HTTP N, request REQUEST-ID)", or the transport's or the
        // credentials' error; after retries, "(after N attempts)".
        using Callback = std::function<void(Result<std::string>)>;

        static Result<std::unique_ptr<Ec2Client>> create(sd_event* event, ImdsClient& imds,
                                                         Ec2ClientOptions options);
        Ec2Client(const Ec2Client&) = delete;
        Ec2Client& operator=(const Ec2Client&) = delete;
        ~Ec2Client();

        // `done` runs once, from the event loop. Requests in flight when the
        // client goes are dropped without their callbacks.
        void call(Ec2Request request, Callback done);

        // For status: what natd knows of its credentials.
        [[nodiscard]] const std::string& region() const { return region_; }
        [[nodiscard]] const std::string& role() const { return role_; }
        [[nodiscard]] std::optional<int64_t> credentials_expiration() const;
        [[nodiscard]] unsigned credentials_fetched() const { return credentials_fetched_; }
        [[nodiscard]] const std::string& endpoint() const { return endpoint_; }

private:
        struct Pending {
                Ec2Request request;
                Callback done;
                unsigned attempts = 0;
                bool refreshed_credentials = false;  // once per request
        };
        using PendingPtr = std::shared_ptr<Pending>;

        Ec2Client(sd_event* event, ImdsClient& imds, std::unique_ptr<HttpClient> http,
                  Ec2ClientOptions options);
        void send(const PendingPtr& p);
        void fetch_credentials();
        void credentials_failed(const Error& why);
        void on_answer(const PendingPtr& p, Result<HttpResponse> answer);
        void attempt_failed(const PendingPtr& p, Error why, bool retry);
        static int on_retry(sd_event_source* source, uint64_t usec, void* client);

        sd_event* event_;
        ImdsClient& imds_;
        std::unique_ptr<HttpClient> http_;
        Ec2ClientOptions options_;
        std::string region_;
        std::string endpoint_;
        std::string role_;
        std::optional<AwsCredentials> credentials_;
        bool credentials_in_flight_ = false;
        int64_t next_refresh_unix_sec_ = 0;  // no new credentials asked for before
        unsigned credentials_fetched_ = 0;
        // Bumped when the client goes: IMDS callbacks that outlive it see it.
        std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
        std::vector<PendingPtr> waiting_for_credentials_;
        std::map<sd_event_source*, std::pair<SdEventSourcePtr, PendingPtr>> retries_;
        std::minstd_rand jitter_;
};

}  // namespace natd
