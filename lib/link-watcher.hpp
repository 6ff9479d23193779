// Keeps a LinkTable current from rtnetlink events on natd's sd-event loop:
// links appearing, renames, altnames being added (the kernel announces an
// altname change as RTM_NEWLINK) and IPv4 addresses. Never polls.
#pragma once

#include <functional>
#include <memory>

#include "handles.hpp"
#include "link-table.hpp"
#include "netlink-socket.hpp"
#include "result.hpp"

namespace natd {

class LinkWatcher {
public:
        using ChangeHandler = std::function<void()>;

        // Subscribes first, then dumps, so no change falls between the two.
        // on_change runs after each batch of events that changed the table.
        static Result<std::unique_ptr<LinkWatcher>> start(sd_event* loop, ChangeHandler on_change);

        [[nodiscard]] const LinkTable& table() const { return table_; }

private:
        LinkWatcher(NetlinkSocket events, NetlinkSocket requests, ChangeHandler on_change)
            : events_(std::move(events)), requests_(std::move(requests)),
              on_change_(std::move(on_change)) {}

        // Replaces the table with a fresh dump of links and addresses.
        Status resync();
        static int on_readable(sd_event_source* s, int fd, uint32_t revents, void* userdata);

        NetlinkSocket events_;
        NetlinkSocket requests_;
        ChangeHandler on_change_;
        LinkTable table_;
        SdEventSourcePtr source_;
};

}  // namespace natd
