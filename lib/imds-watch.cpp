#include "imds-watch.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include <spdlog/spdlog.h>

#include "imds-discovery.hpp"

namespace natd {

namespace {

constexpr uint64_t kSecond = 1'000'000;

bool untrusted_device_number(const ImdsFacts& facts) {
        return facts.available() &&
               std::any_of(facts.metadata.enis.begin(), facts.metadata.enis.end(),
                           [](const EniMetadata& e) { return !e.device_number; });
}

// The service answered when it listed the ENIs: an instance whose
// instance-id or MAC could not be read still has them.
bool answered(const InstanceMetadata& m) {
        return !m.enis.empty();
}

std::vector<MacAddress> link_macs(const std::vector<Link>& links) {
        std::vector<MacAddress> macs;
        for (const auto& link : links)
                if (link.mac && !(*link.mac == MacAddress{}))  // loopback's is all zero
                        macs.push_back(*link.mac);
        return macs;
}

std::string unlisted_macs(const ImdsFacts& facts, const std::vector<MacAddress>& macs) {
        std::string unlisted;
        for (const auto& mac : macs)
                if (!eni_by_mac(facts.metadata, mac))
                        unlisted += mac.str() + " ";
        return unlisted;
}

}  // namespace

std::optional<uint64_t> imds_retry_delay_usec(const ImdsFacts& facts, unsigned round,
                                              bool unlisted_link, unsigned unlisted_round) {
        if (facts.state == ImdsState::Unavailable)
                return 60 * kSecond;
        if (untrusted_device_number(facts))
                return std::min<uint64_t>(kSecond << std::min(round, 4U), 10 * kSecond);
        if (unlisted_link && unlisted_round < kImdsUnlistedRounds)
                return std::min<uint64_t>(kSecond << std::min(unlisted_round, 4U), 10 * kSecond);
        return std::nullopt;
}

bool imds_misses_a_link(const ImdsFacts& facts, const std::vector<Link>& links) {
        return facts.available() && !unlisted_macs(facts, link_macs(links)).empty();
}

Result<std::unique_ptr<ImdsWatch>> ImdsWatch::create(sd_event* event, ImdsMode mode,
                                                     const std::string& endpoint,
                                                     std::function<void()> changed) {
        ImdsOptions options;
        options.endpoint = endpoint;
        auto client = ImdsClient::create(event, std::move(options));
        if (!client)
                return client.failure();
        std::unique_ptr<ImdsWatch> watch(
                new ImdsWatch(event, std::move(client).value(), std::move(changed)));
        if (mode != ImdsMode::No)
                watch->start();
        return watch;
}

ImdsWatch::ImdsWatch(sd_event* event, std::unique_ptr<ImdsClient> client,
                     std::function<void()> changed)
    : event_(event), client_(std::move(client)), changed_(std::move(changed)) {}

ImdsWatch::~ImdsWatch() = default;

void ImdsWatch::refresh(const char* why) {
        if (facts_.state == ImdsState::Disabled)
                return;
        spdlog::debug("IMDS: asking again ({})", why);
        if (in_flight_) {
                again_ = true;
                return;
        }
        start();
}

void ImdsWatch::links_changed(const std::vector<Link>& links) {
        if (!facts_.available())
                return;
        link_macs_ = link_macs(links);
        std::string unlisted = unlisted_macs(facts_, link_macs_);
        if (unlisted.empty() || unlisted == asked_for_macs_)
                return;  // asked for these: the retry timer takes it from there
        asked_for_macs_ = std::move(unlisted);
        unlisted_round_ = 0;
        refresh("a link with a MAC IMDS did not list");
}

void ImdsWatch::start() {
        retry_.reset();
        in_flight_ = true;
        if (facts_.state == ImdsState::Disabled) {
                facts_.state = ImdsState::Pending;
                spdlog::info("IMDS: asking {} for the instance's ENIs",
                             client_->options().endpoint);
        }
        // The client drops the callback, uncalled, when it goes first; it
        // goes with this watch.
        discover_instance(*client_, [this](InstanceMetadata m) { finished(std::move(m)); });
}

void ImdsWatch::finished(InstanceMetadata metadata) {
        in_flight_ = false;
        const ImdsFacts before = facts_;
        if (answered(metadata)) {
                facts_.state = ImdsState::Available;
                facts_.error.clear();
                facts_.metadata = std::move(metadata);
                if (before.state != ImdsState::Available)
                        spdlog::info("IMDS: instance {}, {} ENI{}", facts_.metadata.instance_id,
                                     facts_.metadata.enis.size(),
                                     facts_.metadata.enis.size() == 1 ? "" : "s");
        } else {
                const std::string why = metadata.problems.empty() ? "it lists no network interfaces"
                                                                  : metadata.problems.front();
                if (before.state == ImdsState::Available) {
                        // Keep what it said: ENIs rarely change, and a
                        // refresh that fails must not unplan a working NAT.
                        facts_.error = "the latest refresh failed: " + why;
                        spdlog::warn("IMDS: {}; natd keeps what it said before", facts_.error);
                } else {
                        facts_.state = ImdsState::Unavailable;
                        facts_.error = why;
                        // Once, not every minute on a host without it.
                        if (before.state != ImdsState::Unavailable)
                                spdlog::warn("IMDS unavailable: {}; natd carries on from its "
                                             "configuration and altnames, and asks again every "
                                             "minute",
                                             why);
                        else
                                spdlog::debug("IMDS still unavailable: {}", why);
                }
        }
        const bool same_outcome = before.state == facts_.state && before.error == facts_.error;
        round_ = same_outcome ? round_ + 1 : 0;
        if (std::exchange(again_, false)) {
                start();
        } else {
                // A link the answer still does not list: ask again a few times.
                const bool unlisted =
                        facts_.available() && !unlisted_macs(facts_, link_macs_).empty();
                if (auto delay = imds_retry_delay_usec(facts_, round_, unlisted, unlisted_round_)) {
                        if (unlisted)
                                ++unlisted_round_;
                        arm_retry(*delay);
                }
        }
        if (!(before == facts_))
                changed_();
}

void ImdsWatch::arm_retry(uint64_t delay_usec) {
        sd_event_source* source = nullptr;
        const int r = sd_event_add_time_relative(
                event_, &source, CLOCK_MONOTONIC, delay_usec, 1000,
                [](sd_event_source*, uint64_t, void* self) {
                        static_cast<ImdsWatch*>(self)->start();
                        return 0;
                },
                this);
        if (r < 0) {
                spdlog::error("IMDS: could not arm the retry timer: {}; natd asks again on "
                              "SIGHUP",
                              std::strerror(-r));
                return;
        }
        retry_.reset(source);
}

}  // namespace natd
