// Keeps a LinkTable current from rtnetlink events on natd's sd-event loop:
// links appearing, renames, altnames being added (the kernel announces an
// altname change as RTM_NEWLINK) and IPv4 addresses. Never polls.
#pragma once

#include <functional>
#include <memory>

#include "handles.hpp"
#include "link-table.hpp"
#include "netlink-monitor.hpp"
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
        LinkWatcher(NetlinkSocket requests, ChangeHandler on_change)
            : requests_(std::move(requests)), on_change_(std::move(on_change)) {}

        // Replaces the table with a fresh dump of links and addresses.
        Status resync();
        void on_batch(bool overrun);

        NetlinkSocket requests_;
        ChangeHandler on_change_;
        LinkTable table_;
        bool changed_ = false;
        std::unique_ptr<NetlinkMonitor> monitor_;
};

}  // namespace natd
