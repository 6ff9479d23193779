// Keeps a LinkTable current from rtnetlink events on natd's sd-event loop:
// links appearing, renames, altnames being added (the kernel announces an
// altname change as RTM_NEWLINK) and IPv4 addresses. Never polls.
#pragma once

#include <functional>
#include <memory>
#include <random>
#include <string>

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
        // The table is a complete dump plus every event since. False after
        // the kernel dropped events and before a re-read succeeded: the
        // table then still holds what was known, kept current by the
        // events that did arrive.
        [[nodiscard]] bool synchronized() const { return synchronized_; }
        [[nodiscard]] const std::string& resync_error() const { return resync_error_; }

private:
        LinkWatcher(sd_event* loop, NetlinkSocket requests, ChangeHandler on_change)
            : loop_(loop), requests_(std::move(requests)), on_change_(std::move(on_change)) {}

        // Dumps links and addresses into a fresh table, and replaces the
        // current one only when both dumps completed.
        Status resync();
        // resync(), and on failure a retry with backoff.
        void resync_or_retry();
        void on_batch(bool overrun);

        sd_event* loop_;
        NetlinkSocket requests_;
        ChangeHandler on_change_;
        LinkTable table_;
        bool changed_ = false;
        bool synchronized_ = false;
        std::string resync_error_;
        unsigned resync_failures_ = 0;
        std::minstd_rand jitter_{std::random_device{}()};
        SdEventSourcePtr retry_timer_;
        std::unique_ptr<NetlinkMonitor> monitor_;
};

}  // namespace natd
