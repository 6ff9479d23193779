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

        // Sends a buffer of independent requests (rtnetlink handles each
        // message of one sendmsg() in turn) and waits for one
        // acknowledgement per sequence number in `acked`; unlike
        // transact(), a failed message does not stop the others:
        // `on_error` gets each failure's sequence number and errno. The
        // returned status is the conversation's (send, receive).
        Status request_each(const void* buffer, size_t length, const std::vector<uint32_t>& acked,
                            const std::function<void(uint32_t seq, int error)>& on_error);

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
        // Raises the socket's buffers, where needed, so that a batch of
        // `send_length` bytes goes out in one sendmsg() and all of its
        // `acknowledgements` fit in the receive queue.
        Status fit_buffers(size_t send_length, size_t acknowledgements);
        // Sends `buffer` and reads acknowledgements until every `acked` one
        // came, or (stop_at_error) the first error did.
        Status send_and_collect(const void* buffer, size_t length,
                                const std::vector<uint32_t>& acked, bool stop_at_error,
                                const std::function<void(uint32_t seq, int error)>& on_error);
        // Reads and drops everything queued: the rest of an abandoned dump
        // (the kernel refuses a new dump while one runs: EBUSY) and replies
        // to an earlier request.
        void discard_queued();

        // Large enough for a dump page of links with many altnames.
        static constexpr size_t kReceiveBufferSize = size_t{64} * 1024;
        // What one queued acknowledgement costs the receive buffer (the
        // skb's truesize, generously: an NLMSG_ERROR with extended ACK).
        static constexpr size_t kAcknowledgementSize = 1024;
        static constexpr size_t kBufferSlack = size_t{64} * 1024;

        MnlSocketPtr socket_;
        uint32_t port_id_ = 0;
        uint32_t seq_ = 0;
        std::vector<char> buffer_;  // one per socket, allocated once
};

}  // namespace natd
