#include "imds-client.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <utility>

namespace natd {

namespace {

constexpr const char* kTokenPath = "/latest/api/token";
constexpr const char* kTtlHeader = "x-aws-ec2-metadata-token-ttl-seconds";

}  // namespace

bool imds_token_due(const ImdsToken& token, uint64_t now_usec) {
        const uint64_t lifetime = uint64_t{token.ttl_sec} * 1'000'000;
        const uint64_t margin = std::clamp<uint64_t>(lifetime / 10, 1'000'000, 60'000'000);
        return token.value.empty() || now_usec + margin >= token.fetched_usec + lifetime;
}

uint32_t imds_granted_ttl(const std::map<std::string, std::string>& headers, uint32_t asked) {
        const auto it = headers.find(kTtlHeader);
        if (it == headers.end())
                return asked;
        uint32_t granted = 0;
        const auto& text = it->second;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), granted);
        if (ec != std::errc{} || end != text.data() + text.size() || granted == 0)
                return asked;
        return std::min(granted, asked);
}

Result<std::unique_ptr<ImdsClient>> ImdsClient::create(sd_event* event, ImdsOptions options) {
        auto http = HttpClient::create(event);
        if (!http.ok())
                return http.failure();
        return std::unique_ptr<ImdsClient>(
                new ImdsClient(event, std::move(http).value(), std::move(options)));
}

ImdsClient::ImdsClient(sd_event* event, std::unique_ptr<HttpClient> http, ImdsOptions options)
    : event_(event), http_(std::move(http)), options_(std::move(options)),
      jitter_(std::random_device{}()) {}

ImdsClient::~ImdsClient() {
        retries_.clear();
        http_.reset();  // drops the callbacks that point here
}

uint64_t ImdsClient::now_usec() const {
        uint64_t now = 0;
        sd_event_now(event_, CLOCK_MONOTONIC, &now);
        return now;
}

void ImdsClient::get(const std::string& path, Callback done) {
        auto p = std::make_shared<Pending>();
        p->path = "/latest/" + path;
        p->done = std::move(done);
        send(p);
}

void ImdsClient::send(const PendingPtr& p) {
        if (!token_ || imds_token_due(*token_, now_usec())) {
                waiting_for_token_.push_back(p);
                fetch_token();
                return;
        }
        HttpRequest request;
        request.url = options_.endpoint + p->path;
        request.headers = {"X-aws-ec2-metadata-token: " + token_->value};
        p->token = token_->value;
        request.timeout_usec = options_.request_timeout_usec;
        ++p->attempts;
        auto started = http_->start(request, [this, p](Result<HttpResponse> answer) {
                on_answer(p, std::move(answer));
        });
        if (!started.ok())
                attempt_failed(p, started.failure().wrapped("IMDS GET " + p->path), true);
}

void ImdsClient::fetch_token() {
        if (token_in_flight_)
                return;
        HttpRequest request;
        request.method = "PUT";
        request.url = options_.endpoint + kTokenPath;
        request.headers = {"X-aws-ec2-metadata-token-ttl-seconds: " +
                           std::to_string(options_.token_ttl_sec)};
        request.timeout_usec = options_.request_timeout_usec;
        request.max_body = 4096;
        auto started = http_->start(
                request, [this](Result<HttpResponse> answer) { on_token(std::move(answer)); });
        if (!started.ok()) {
                on_token(started.failure());
                return;
        }
        token_in_flight_ = true;
}

void ImdsClient::on_token(Result<HttpResponse> answer) {
        token_in_flight_ = false;
        std::optional<Error> failure;
        if (!answer.ok())
                failure = answer.failure().wrapped(std::string("IMDS PUT ") + kTokenPath);
        else if (answer.value().status != 200 || answer.value().body.empty())
                failure = Error{std::string("IMDS PUT ") + kTokenPath + ": HTTP " +
                                        std::to_string(answer.value().status),
                                answer.value().status == 403 ? EACCES : EIO};
        auto waiting = std::exchange(waiting_for_token_, {});
        if (failure) {
                // Each request waiting for it counts a failed attempt.
                for (auto& p : waiting) {
                        ++p->attempts;
                        attempt_failed(p, *failure, !failure->is(EACCES));
                }
                return;
        }
        ++tokens_fetched_;
        token_ = ImdsToken{answer.value().body, now_usec(),
                           imds_granted_ttl(answer.value().headers, options_.token_ttl_sec)};
        for (auto& p : waiting)
                send(p);
}

void ImdsClient::on_answer(const PendingPtr& p, Result<HttpResponse> answer) {
        const std::string what = "IMDS GET " + p->path;
        if (!answer.ok()) {
                attempt_failed(p, answer.failure().wrapped(what), true);
                return;
        }
        const long status = answer.value().status;
        if (status == 200) {
                p->done(std::move(answer.value().body));
                return;
        }
        const std::string http = what + ": HTTP " + std::to_string(status);
        if (status == 401) {
                // The token expired or was revoked: a fresh one, at once
                // (unless one came meanwhile, for an earlier refusal).
                if (token_ && token_->value == p->token)
                        token_.reset();
                if (p->attempts < options_.max_attempts)
                        send(p);
                else
                        p->done(Error{http + " (the session token was refused)", EACCES});
                return;
        }
        if (status == 404)
                p->done(Error{http, ENOENT});
        else if (status == 403)
                p->done(Error{http + " (the instance metadata service is turned off)", EACCES});
        else
                attempt_failed(p, Error{http, EIO}, status >= 500 || status == 429);
}

void ImdsClient::attempt_failed(const PendingPtr& p, Error why, bool retry) {
        if (!retry || p->attempts >= options_.max_attempts) {
                if (p->attempts > 1)
                        why.message += " (after " + std::to_string(p->attempts) + " attempts)";
                p->done(std::move(why));
                return;
        }
        p->last_error = std::move(why);
        const double jitter = std::uniform_real_distribution<double>(0.0, 1.0)(jitter_);
        const uint64_t delay = backoff_delay_usec(p->attempts, jitter, options_.backoff);
        sd_event_source* source = nullptr;
        if (sd_event_add_time_relative(event_, &source, CLOCK_MONOTONIC, delay, 1000,
                                       &ImdsClient::on_retry, this) < 0) {
                p->done(p->last_error.wrapped("could not arm the retry timer"));
                return;
        }
        retries_.emplace(source, std::make_pair(SdEventSourcePtr{source}, p));
}

int ImdsClient::on_retry(sd_event_source* source, uint64_t /*usec*/, void* client) {
        auto* self = static_cast<ImdsClient*>(client);
        auto it = self->retries_.find(source);
        if (it == self->retries_.end())
                return 0;
        PendingPtr p = std::move(it->second.second);
        // Freed from its own callback: sd-event allows it.
        self->retries_.erase(it);
        self->send(p);
        return 0;
}

}  // namespace natd
