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
        auto events = NetlinkSocket::open(NETLINK_ROUTE, true);
        if (!events.ok())
                return Error{events.error()};
        for (unsigned group : {RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR})
                if (auto s = events.value().join_group(group); !s.ok())
                        return Error{s.error()};
        auto requests = NetlinkSocket::open(NETLINK_ROUTE, false);
        if (!requests.ok())
                return Error{requests.error()};

        std::unique_ptr<LinkWatcher> w(new LinkWatcher(
                std::move(events).value(), std::move(requests).value(), std::move(on_change)));
        if (auto s = w->resync(); !s.ok())
                return Error{s.error()};

        sd_event_source* source = nullptr;
        const int r =
                sd_event_add_io(loop, &source, w->events_.fd(), EPOLLIN, on_readable, w.get());
        if (r < 0)
                return errno_error("watch rtnetlink events", -r);
        w->source_.reset(source);
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

int LinkWatcher::on_readable(sd_event_source*, int, uint32_t, void* userdata) {
        auto* self = static_cast<LinkWatcher*>(userdata);
        bool changed = false;
        auto result = self->events_.drain([&](const nlmsghdr* nlh) {
                if (auto event = parse_link_event(nlh))
                        changed = self->table_.apply(*event) || changed;
                return MNL_CB_OK;
        });
        if (!result.status.ok())
                spdlog::error("{}", result.status.error());
        if (result.overrun) {
                // The kernel dropped events: only a fresh dump is the truth.
                spdlog::warn("rtnetlink event queue overran, re-reading links and addresses");
                if (auto s = self->resync(); !s.ok())
                        spdlog::error("{}", s.error());
                changed = true;
        }
        if (changed)
                self->on_change_();
        return 0;
}

}  // namespace natd
