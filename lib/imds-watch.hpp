// The daemon's view of the instance metadata service: asks it what
// imds-metadata.hpp describes (imds-discovery.hpp), keeps the latest answer
// as ImdsFacts for the planner, and asks again when that answer may be out
// of date: on request (SIGHUP), when a link appears whose MAC the service
// did not list (a hot-attached ENI), while a device-number reads 0 for a
// fresh ENI, and every minute while the service does not answer. All on
// natd's event loop: a slow service never holds it up.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "handles.hpp"
#include "imds-client.hpp"
#include "imds-metadata.hpp"
#include "link.hpp"
#include "nat-options.hpp"
#include "result.hpp"

namespace natd {

// Pure: when to ask again after a discovery that ended as `facts`, the
// `round`-th in a row to end that way (0-based); none: only on demand.
// Unavailable: every minute (auto). Untrusted device numbers: 1 s, 2 s, 4 s,
// up to 10 s. A link whose MAC the service does not list yet (it may list a
// hot-attached ENI moments after the kernel has it): the same, for
// `unlisted_round` < kImdsUnlistedRounds (docker0 or a veth is no ENI, and
// is never listed).
inline constexpr unsigned kImdsUnlistedRounds = 8;
std::optional<uint64_t> imds_retry_delay_usec(const ImdsFacts& facts, unsigned round,
                                              bool unlisted_link = false,
                                              unsigned unlisted_round = 0);

// Pure: whether `links` has a MAC the service's answer does not list.
bool imds_misses_a_link(const ImdsFacts& facts, const std::vector<Link>& links);

class ImdsWatch {
public:
        // `changed` runs (from the event loop) whenever facts() changed.
        static Result<std::unique_ptr<ImdsWatch>> create(sd_event* event, ImdsMode mode,
                                                         const std::string& endpoint,
                                                         std::function<void()> changed);
        ImdsWatch(const ImdsWatch&) = delete;
        ImdsWatch& operator=(const ImdsWatch&) = delete;
        ~ImdsWatch();

        [[nodiscard]] const ImdsFacts& facts() const { return facts_; }
        [[nodiscard]] const std::string& endpoint() const { return client_->options().endpoint; }
        [[nodiscard]] unsigned tokens_fetched() const { return client_->tokens_fetched(); }

        // Ask again now (or as soon as the discovery in flight is done).
        void refresh(const char* why);
        // The kernel's links changed: a MAC the service did not list is a
        // reason to ask again (once per MAC set).
        void links_changed(const std::vector<Link>& links);

private:
        ImdsWatch(sd_event* event, std::unique_ptr<ImdsClient> client,
                  std::function<void()> changed);
        void start();
        void finished(InstanceMetadata metadata);
        void arm_retry(uint64_t delay_usec);

        sd_event* event_;
        std::unique_ptr<ImdsClient> client_;
        std::function<void()> changed_;
        ImdsFacts facts_;
        bool in_flight_ = false;
        bool again_ = false;                 // refresh() during a discovery: one more after it
        unsigned round_ = 0;                 // discoveries in a row that ended the same way
        std::string asked_for_macs_;         // the unlisted MACs a refresh was made for
        std::vector<MacAddress> link_macs_;  // the links' MACs, as of links_changed()
        unsigned unlisted_round_ = 0;        // refreshes since they appeared
        SdEventSourcePtr retry_;
};

}  // namespace natd
