#include "link-watcher.hpp"

#include <array>
#include <netinet/in.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <spdlog/spdlog.h>

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
                new LinkWatcher(std::move(requests).value(), std::move(on_change)));
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
        if (auto s = w->resync(); !s.ok())
                return s.failure();
        return w;
}

Status LinkWatcher::resync() {
        table_.clear();
        std::array<char, kRequestBufferSize> buf{};
        for (uint16_t type : {RTM_GETLINK, RTM_GETADDR}) {
                auto* nlh = dump_request(buf.data(), type, requests_.next_seq());
                Status s = requests_.request(nlh, [&](const nlmsghdr* reply) {
                        if (auto event = parse_link_event(reply))
                                table_.apply(*event);
                        return MNL_CB_OK;
                });
                if (!s.ok())
                        return Error{std::string("Could not dump ") +
                                     (type == RTM_GETLINK ? "links" : "addresses") + ": " +
                                     s.error()};
        }
        return Ok{};
}

void LinkWatcher::on_batch(bool overrun) {
        if (overrun) {
                // The kernel dropped events: only a fresh dump is the truth.
                if (auto s = resync(); !s.ok())
                        spdlog::error("{}", s.error());
                changed_ = true;
        }
        if (changed_) {
                changed_ = false;
                on_change_();
        }
}

}  // namespace natd
