// A netlink socket subscribed to multicast groups and read on natd's
// sd-event loop: how natd learns of every kernel change without polling.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>

#include "handles.hpp"
#include "netlink-socket.hpp"
#include "result.hpp"

namespace natd {

class NetlinkMonitor {
public:
        using MessageHandler = std::function<void(const nlmsghdr*)>;
        // After every batch of messages read; `overrun` when the kernel
        // dropped some, so the owner must re-read the state it tracks.
        using BatchHandler = std::function<void(bool overrun)>;

        static Result<std::unique_ptr<NetlinkMonitor>> start(sd_event* loop, int bus,
                                                             std::initializer_list<unsigned> groups,
                                                             MessageHandler on_message,
                                                             BatchHandler on_batch);

private:
        NetlinkMonitor(NetlinkSocket socket, MessageHandler on_message, BatchHandler on_batch)
            : socket_(std::move(socket)), on_message_(std::move(on_message)),
              on_batch_(std::move(on_batch)) {}
        static int on_readable(sd_event_source* s, int fd, uint32_t revents, void* userdata);

        NetlinkSocket socket_;
        MessageHandler on_message_;
        BatchHandler on_batch_;
        SdEventSourcePtr source_;
};

}  // namespace natd
