#include "link-watcher.hpp"

#include <array>
#include <cstring>
#include <netinet/in.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <spdlog/spdlog.h>

#include "backoff.hpp"

namespace natd {

namespace {

nlmsghdr* dump_request(char* buf, uint16_t type, uint32_t seq) {
        auto* nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        nlh->nlmsg_seq = seq;
        if (type == RTM_GETLINK) {
                auto* ifi =
                        static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
                ifi->ifi_family = AF_UNSPEC;
        } else {
                auto* ifa =
                        static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
                ifa->ifa_family = AF_INET;
        }
        return nlh;
}

}  // namespace

Result<std::unique_ptr<LinkWatcher>> LinkWatcher::start(sd_event* loop, ChangeHandler on_change) {
        auto requests = NetlinkSocket::open(NETLINK_ROUTE, false);
        if (!requests.ok())
                return requests.failure();
        std::unique_ptr<LinkWatcher> w(
                new LinkWatcher(loop, std::move(requests).value(), std::move(on_change)));
        auto* self = w.get();
        auto monitor = NetlinkMonitor::start(
                loop, NETLINK_ROUTE, {RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR},
                [self](const nlmsghdr* nlh) {
                        if (auto event = parse_link_event(nlh))
                                self->changed_ = self->table_.apply(*event) || self->changed_;
                },
                [self](bool overrun) { self->on_batch(overrun); });
        if (!monitor.ok())
                return monitor.failure();
        w->monitor_ = std::move(monitor).value();
        // At start a failed dump is fatal: there is nothing to keep.
        if (auto s = w->resync(); !s.ok())
                return s.failure();
        return w;
}

Status LinkWatcher::resync() {
        LinkTable fresh;
        std::array<char, kRequestBufferSize> buf{};
        for (uint16_t type : {RTM_GETLINK, RTM_GETADDR}) {
                // A retried dump starts again from what the previous dump
                // gave: a partial attempt must not leave links behind.
                LinkTable attempt = fresh;
                auto* nlh = dump_request(buf.data(), type, requests_.next_seq());
                Status s = requests_.request(
                        nlh,
                        [&](const nlmsghdr* reply) {
                                if (auto event = parse_link_event(reply))
                                        attempt.apply(*event);
                                return MNL_CB_OK;
                        },
                        [&] { attempt = fresh; });
                if (!s.ok())
                        return s.failure().wrapped(std::string("Could not dump ") +
                                                   (type == RTM_GETLINK ? "links" : "addresses"));
                fresh = std::move(attempt);
        }
        changed_ = changed_ || !(fresh == table_);
        table_ = std::move(fresh);
        synchronized_ = true;
        return Ok{};
}

void LinkWatcher::resync_or_retry() {
        retry_timer_.reset();
        const Status s = resync();
        if (s.ok()) {
                if (resync_failures_ > 0)
                        spdlog::info("Interface table re-read after {} failed attempt{}",
                                     resync_failures_, resync_failures_ == 1 ? "" : "s");
                resync_failures_ = 0;
                resync_error_.clear();
                return;
        }
        synchronized_ = false;
        resync_error_ = s.error();
        ++resync_failures_;
        std::uniform_real_distribution<double> spread(0, 1);
        const uint64_t delay = backoff_delay_usec(resync_failures_, spread(jitter_));
        spdlog::error("{}; keeping the interfaces known so far, trying again in {} ms", s.error(),
                      delay / 1000);
        sd_event_source* t = nullptr;
        const int r = sd_event_add_time_relative(
                loop_, &t, CLOCK_MONOTONIC, delay, 1000,
                [](sd_event_source*, uint64_t, void* userdata) {
                        auto* self = static_cast<LinkWatcher*>(userdata);
                        self->resync_or_retry();
                        self->on_batch(false);
                        return 0;
                },
                this);
        if (r < 0)
                spdlog::error("Could not arm the interface table retry: {}", std::strerror(-r));
        else
                retry_timer_.reset(t);
}

void LinkWatcher::on_batch(bool overrun) {
        if (overrun) {
                // The kernel dropped events: only a fresh dump is the truth.
                synchronized_ = false;
                changed_ = true;  // at least the synchronisation state
                // A pending retry keeps its backoff: a storm of overruns
                // does not become a storm of dumps.
                if (!retry_timer_)
                        resync_or_retry();
        }
        if (changed_) {
                changed_ = false;
                on_change_();
        }
}

}  // namespace natd
