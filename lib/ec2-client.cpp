#include "ec2-client.hpp"

#include <cerrno>
#include <ctime>
#include <utility>

#include "ec2-response.hpp"

namespace natd {

namespace {

constexpr const char* kCredentialsPath = "meta-data/iam/security-credentials/";
constexpr int64_t kCredentialsSkewSec = 10;
constexpr int64_t kCredentialsRetrySec = 10;

int64_t unix_now() {
        return static_cast<int64_t>(std::time(nullptr));
}

}  // namespace

std::string ec2_regional_endpoint(const std::string& region) {
        return "https://ec2." + region + ".amazonaws.com";
}

Result<std::unique_ptr<Ec2Client>> Ec2Client::create(sd_event* event, ImdsClient& imds,
                                                     Ec2ClientOptions options) {
        auto http = HttpClient::create(event);
        if (!http.ok())
                return http.failure();
        return std::unique_ptr<Ec2Client>(
                new Ec2Client(event, imds, std::move(http).value(), std::move(options)));
}

Ec2Client::Ec2Client(sd_event* event, ImdsClient& imds, std::unique_ptr<HttpClient> http,
                     Ec2ClientOptions options)
    : event_(event), imds_(imds), http_(std::move(http)), options_(std::move(options)),
      endpoint_(options_.endpoint), jitter_(std::random_device{}()) {}

Ec2Client::~Ec2Client() {
        *alive_ = false;
        retries_.clear();
        http_.reset();  // drops the callbacks that point here
}

std::optional<int64_t> Ec2Client::credentials_expiration() const {
        if (!credentials_)
                return std::nullopt;
        return credentials_->expiration_unix_sec;
}

void Ec2Client::call(Ec2Request request, Callback done) {
        auto p = std::make_shared<Pending>();
        p->request = std::move(request);
        p->done = std::move(done);
        send(p);
}

void Ec2Client::send(const PendingPtr& p) {
        const int64_t now = unix_now();
        // Expired (or within a clock skew of it): wait for new ones. Due
        // (the last minutes): use them, and ask for new ones meanwhile, at
        // most every kCredentialsRetrySec (IMDS may still hand out the same).
        const bool expired = region_.empty() || !credentials_ ||
                             now + kCredentialsSkewSec >= credentials_->expiration_unix_sec;
        if (expired) {
                waiting_for_credentials_.push_back(p);
                fetch_credentials();
                return;
        }
        if (aws_credentials_due(*credentials_, now) && now >= next_refresh_unix_sec_)
                fetch_credentials();
        HttpRequest request;
        request.method = "POST";
        request.url = endpoint_ + "/";
        request.allow_https = true;
        // libcurl signs x-amz-security-token only when the header is there.
        request.headers = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8",
                           "X-Amz-Security-Token: " + credentials_->session_token};
        request.body = ec2_form_body(p->request);
        request.sign = AwsSigV4{region_, "ec2", credentials_->access_key_id,
                                credentials_->secret_access_key};
        request.timeout_usec = options_.request_timeout_usec;
        ++p->attempts;
        auto started = http_->start(request, [this, p](Result<HttpResponse> answer) {
                on_answer(p, std::move(answer));
        });
        if (!started.ok())
                attempt_failed(p, started.failure(), false);
}

// Region, then the role's name, then its credentials: three IMDS GETs, at
// most one chain at a time however many requests wait.
void Ec2Client::fetch_credentials() {
        if (credentials_in_flight_)
                return;
        credentials_in_flight_ = true;
        next_refresh_unix_sec_ = unix_now() + kCredentialsRetrySec;
        std::weak_ptr<bool> alive = alive_;
        auto fetch_role = [this, alive] {
                imds_.get(kCredentialsPath, [this, alive](Result<std::string> listing) {
                        if (alive.expired() || !*alive.lock())
                                return;
                        if (!listing.ok())
                                return credentials_failed(listing.failure());
                        auto role = aws_role_name_from_listing(listing.value());
                        if (!role.ok())
                                return credentials_failed(role.failure());
                        role_ = role.value();
                        imds_.get(kCredentialsPath + role_, [this,
                                                             alive](Result<std::string> body) {
                                if (alive.expired() || !*alive.lock())
                                        return;
                                if (!body.ok())
                                        return credentials_failed(body.failure());
                                auto parsed = aws_credentials_from_imds(body.value());
                                if (!parsed.ok())
                                        return credentials_failed(
                                                parsed.failure().wrapped("instance role " + role_));
                                credentials_ = std::move(parsed).value();
                                ++credentials_fetched_;
                                credentials_in_flight_ = false;
                                auto waiting = std::move(waiting_for_credentials_);
                                waiting_for_credentials_.clear();
                                for (const auto& p : waiting)
                                        send(p);
                        });
                });
        };
        if (!region_.empty())
                return fetch_role();
        imds_.get("meta-data/placement/region", [this, alive,
                                                 fetch_role](Result<std::string> region) {
                if (alive.expired() || !*alive.lock())
                        return;
                if (!region.ok())
                        return credentials_failed(region.failure());
                region_ = region.value();
                while (!region_.empty() && (region_.back() == '\n' || region_.back() == ' '))
                        region_.pop_back();
                if (endpoint_.empty())
                        endpoint_ = ec2_regional_endpoint(region_);
                fetch_role();
        });
}

// Without credentials nothing can be sent: every waiting request fails
// with why (IMDS has retried already); the caller decides when to ask again.
void Ec2Client::credentials_failed(const Error& why) {
        credentials_in_flight_ = false;
        const Error failure = why.wrapped("EC2 API credentials");
        auto waiting = std::move(waiting_for_credentials_);
        waiting_for_credentials_.clear();
        for (const auto& p : waiting)
                p->done(failure);
}

void Ec2Client::on_answer(const PendingPtr& p, Result<HttpResponse> answer) {
        const std::string what = "EC2 " + p->request.action;
        if (!answer.ok())
                return attempt_failed(p, answer.failure().wrapped(what), true);
        const HttpResponse& response = answer.value();
        if (response.status == 200)
                return p->done(std::move(answer).value().body);
        const std::string http = "HTTP " + std::to_string(response.status);
        auto error = ec2_parse_error(response.body);
        if (!error.ok())
                return attempt_failed(
                        p,
                        Error{what + ": " + http + " without an EC2 error: " + error.error(), EIO},
                        response.status >= 500 || response.status == 429);
        const Ec2Error& e = error.value();
        Error why{what + ": " + e.code + ": " + e.message + " (" + http + ", request " +
                          e.request_id + ")",
                  EIO};
        if (ec2_error_credentials_expired(e.code) && !p->refreshed_credentials) {
                p->refreshed_credentials = true;
                credentials_.reset();
                return send(p);
        }
        attempt_failed(p, std::move(why), ec2_error_retriable(response.status, e.code));
}

void Ec2Client::attempt_failed(const PendingPtr& p, Error why, bool retry) {
        if (!retry || p->attempts >= options_.max_attempts) {
                if (p->attempts > 1)
                        why.message += " (after " + std::to_string(p->attempts) + " attempts)";
                p->done(std::move(why));
                return;
        }
        const double jitter = std::uniform_real_distribution<double>(0.0, 1.0)(jitter_);
        const uint64_t delay = backoff_delay_usec(p->attempts, jitter, options_.backoff);
        sd_event_source* source = nullptr;
        if (sd_event_add_time_relative(event_, &source, CLOCK_MONOTONIC, delay, 1000,
                                       &Ec2Client::on_retry, this) < 0) {
                p->done(why.wrapped("could not arm the retry timer"));
                return;
        }
        retries_.emplace(source, std::make_pair(SdEventSourcePtr{source}, p));
}

int Ec2Client::on_retry(sd_event_source* source, uint64_t /*usec*/, void* client) {
        auto* self = static_cast<Ec2Client*>(client);
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
