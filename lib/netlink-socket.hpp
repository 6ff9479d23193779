// A netlink socket (rtnetlink or nfnetlink) with the two conversations natd
// has with the kernel: request/acknowledge (or dump), and reading events.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "handles.hpp"
#include "result.hpp"

struct nlmsghdr;

namespace natd {

// Room for one request message natd builds (a route, a dump request).
inline constexpr size_t kRequestBufferSize = 8192;

class NetlinkSocket {
public:
        // Return MNL_CB_OK to go on, MNL_CB_STOP to stop, MNL_CB_ERROR to fail.
        using MessageHandler = std::function<int(const nlmsghdr*)>;

        // bus: NETLINK_ROUTE or NETLINK_NETFILTER. Events sockets are
        // non-blocking; request sockets block (the kernel answers at once).
        static Result<NetlinkSocket> open(int bus, bool nonblocking);

        // Subscribe to a multicast group (RTNLGRP_*, NFNLGRP_*).
        Status join_group(unsigned group);

        [[nodiscard]] int fd() const;
        [[nodiscard]] uint32_t port_id() const { return port_id_; }
        // Reserves `count` consecutive sequence numbers; returns the first.
        uint32_t next_seq(uint32_t count = 1) {
                const uint32_t first = seq_ + 1;
                seq_ += count;
                return first;
        }

        // Sends one message with NLM_F_ACK or NLM_F_DUMP set and handles
        // every reply until the acknowledgement or NLMSG_DONE. A kernel
        // error comes back with its errno. A dump interrupted by a
        // concurrent change (NLM_F_DUMP_INTR) is retried with a fresh
        // sequence number; `on_retry` runs before each retry so the caller
        // can forget what the abandoned attempt delivered. Whatever fails,
        // nothing of this request is left queued for the next one.
        Status request(const nlmsghdr* message, const MessageHandler& on_reply,
                       const std::function<void()>& on_retry = {});

        // Sends a buffer of several messages (an nftables batch) and waits
        // for one acknowledgement per sequence number in `acked`. The first
        // error names the message that failed through `describe`.
        Status transact(const void* buffer, size_t length, const std::vector<uint32_t>& acked,
                        const std::function<std::string(uint32_t seq)>& describe);

        // Reads every message queued on a non-blocking socket. Returns an
        // error with errno_value ENOBUFS when the kernel dropped events: the
        // caller must then resynchronise with a dump.
        struct DrainResult {
                bool overrun = false;
                Status status = Ok{};
        };
        DrainResult drain(const MessageHandler& on_event);

private:
        explicit NetlinkSocket(MnlSocketPtr s, uint32_t port_id)
            : socket_(std::move(s)), port_id_(port_id), buffer_(kReceiveBufferSize) {}
        Status receive_until_done(uint32_t seq, const MessageHandler& on_reply);
        // Reads and drops everything queued: the rest of an abandoned dump
        // (the kernel refuses a new dump while one runs: EBUSY) and replies
        // to an earlier request.
        void discard_queued();

        // Large enough for a dump page of links with many altnames.
        static constexpr size_t kReceiveBufferSize = size_t{64} * 1024;

        MnlSocketPtr socket_;
        uint32_t port_id_ = 0;
        uint32_t seq_ = 0;
        std::vector<char> buffer_;  // one per socket, allocated once
};

}  // namespace natd
