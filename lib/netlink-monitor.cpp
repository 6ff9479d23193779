#include "netlink-monitor.hpp"

#include <sys/epoll.h>

#include <spdlog/spdlog.h>

namespace natd {

Result<std::unique_ptr<NetlinkMonitor>>
NetlinkMonitor::start(sd_event* loop, int bus, std::initializer_list<unsigned> groups,
                      MessageHandler on_message, BatchHandler on_batch) {
        auto socket = NetlinkSocket::open(bus, true);
        if (!socket.ok())
                return socket.failure();
        for (unsigned group : groups)
                if (auto s = socket.value().join_group(group); !s.ok())
                        return s.failure();
        std::unique_ptr<NetlinkMonitor> m(new NetlinkMonitor(
                std::move(socket).value(), std::move(on_message), std::move(on_batch)));
        sd_event_source* source = nullptr;
        const int r =
                sd_event_add_io(loop, &source, m->socket_.fd(), EPOLLIN, on_readable, m.get());
        if (r < 0)
                return errno_error("watch netlink events", -r);
        m->source_.reset(source);
        return m;
}

int NetlinkMonitor::on_readable(sd_event_source*, int, uint32_t, void* userdata) {
        auto* self = static_cast<NetlinkMonitor*>(userdata);
        auto result = self->socket_.drain([self](const nlmsghdr* nlh) {
                self->on_message_(nlh);
                return MNL_CB_OK;
        });
        if (!result.status.ok())
                spdlog::error("{}", result.status.error());
        if (result.overrun)
                spdlog::warn("Netlink event queue overran; re-reading the kernel state");
        self->on_batch_(result.overrun);
        return 0;
}

}  // namespace natd
