#include "netlink-socket.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>
#include <sys/socket.h>

#include <linux/netlink.h>

namespace natd {

namespace {

constexpr int kDumpAttempts = 5;

int dispatch(const nlmsghdr* nlh, void* data) {
        const auto* handler = static_cast<const NetlinkSocket::MessageHandler*>(data);
        return (*handler)(nlh);
}

}  // namespace

Result<NetlinkSocket> NetlinkSocket::open(int bus, bool nonblocking) {
        MnlSocketPtr s(mnl_socket_open2(bus, SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0)));
        if (!s)
                return errno_error("open netlink socket", errno);
        if (mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0)
                return errno_error("bind netlink socket", errno);
        // Extended ACKs carry the kernel's reason for a rejected message.
        int one = 1;
        mnl_socket_setsockopt(s.get(), NETLINK_EXT_ACK, &one, sizeof(one));
        const uint32_t port = mnl_socket_get_portid(s.get());
        NetlinkSocket socket(std::move(s), port);
        // Start sequence numbers at the clock so a restarted natd never
        // matches a stale reply of its predecessor.
        socket.seq_ = static_cast<uint32_t>(std::time(nullptr));
        return socket;
}

Status NetlinkSocket::join_group(unsigned group) {
        int g = static_cast<int>(group);
        if (mnl_socket_setsockopt(socket_.get(), NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0)
                return errno_error("join netlink group " + std::to_string(group), errno);
        return Ok{};
}

int NetlinkSocket::fd() const {
        return mnl_socket_get_fd(socket_.get());
}

void NetlinkSocket::discard_queued() {
        while (recv(fd(), buffer_.data(), buffer_.size(), MSG_DONTWAIT) > 0 || errno == EINTR ||
               errno == ENOBUFS) {
        }
}

Status NetlinkSocket::receive_until_done(uint32_t seq, const MessageHandler& on_reply) {
        for (;;) {
                const ssize_t n =
                        mnl_socket_recvfrom(socket_.get(), buffer_.data(), buffer_.size());
                if (n < 0)
                        return errno_error("receive netlink reply", errno);
                const int r = mnl_cb_run(buffer_.data(), static_cast<size_t>(n), seq, port_id_,
                                         dispatch, const_cast<MessageHandler*>(&on_reply));
                if (r < 0)
                        return Error{std::strerror(errno), errno};
                if (r == MNL_CB_STOP)
                        return Ok{};
        }
}

Status NetlinkSocket::request(const nlmsghdr* message, const MessageHandler& on_reply,
                              const std::function<void()>& on_retry) {
        const bool dump = (message->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
        // The caller's buffer keeps its sequence number; retries get fresh
        // ones, so that no late reply of an abandoned attempt is taken for
        // the new one's.
        const nlmsghdr* nlh = message;
        std::vector<char> retry;
        for (int attempt = 1;; ++attempt) {
                if (attempt > 1) {
                        const auto* bytes = reinterpret_cast<const char*>(message);
                        retry.assign(bytes, bytes + message->nlmsg_len);
                        auto* copy = reinterpret_cast<nlmsghdr*>(retry.data());
                        copy->nlmsg_seq = next_seq();
                        nlh = copy;
                        if (on_retry)
                                on_retry();
                }
                discard_queued();
                if (mnl_socket_sendto(socket_.get(), nlh, nlh->nlmsg_len) < 0)
                        return errno_error("send netlink request", errno);
                Status s = receive_until_done(nlh->nlmsg_seq, on_reply);
                if (s.ok())
                        return s;
                // Drop the rest of a failed or interrupted dump now: the
                // next request must start on an empty queue.
                discard_queued();
                // EINTR is NLM_F_DUMP_INTR (the dump raced a change); EBUSY
                // a dump still running from before.
                if (dump && attempt < kDumpAttempts &&
                    (s.failure().is(EINTR) || s.failure().is(EBUSY)))
                        continue;
                return s;
        }
}

Status NetlinkSocket::fit_buffers(size_t send_length, size_t acknowledgements) {
        // A batch goes out in one sendmsg(), which netlink refuses beyond
        // the send buffer (EMSGSIZE); every message's acknowledgement is
        // queued before sendmsg() returns, and those beyond the receive
        // buffer would be dropped (ENOBUFS). The sizes the kernel defaults
        // to fit the rulesets of a few dozen subnets; larger ones raise
        // them (the *FORCE options: natd has CAP_NET_ADMIN).
        const auto fit = [&](int option, int force, size_t want, const char* what) -> Status {
                int have = 0;
                socklen_t len = sizeof(have);
                if (getsockopt(fd(), SOL_SOCKET, option, &have, &len) < 0)
                        return errno_error(std::string("read the netlink ") + what, errno);
                // The kernel reports twice what was set (its bookkeeping).
                if (want <= static_cast<size_t>(have) / 2)
                        return Ok{};
                const int set = static_cast<int>(want);
                if (setsockopt(fd(), SOL_SOCKET, force, &set, sizeof(set)) < 0 &&
                    setsockopt(fd(), SOL_SOCKET, option, &set, sizeof(set)) < 0)
                        return errno_error(std::string("raise the netlink ") + what + " to " +
                                                   std::to_string(want) + " bytes",
                                           errno);
                return Ok{};
        };
        if (Status s = fit(SO_SNDBUF, SO_SNDBUFFORCE, send_length + kBufferSlack, "send buffer");
            !s.ok())
                return s;
        return fit(SO_RCVBUF, SO_RCVBUFFORCE,
                   acknowledgements * kAcknowledgementSize + kBufferSlack, "receive buffer");
}

Status
NetlinkSocket::send_and_collect(const void* buffer, size_t length,
                                const std::vector<uint32_t>& acked, bool stop_at_error,
                                const std::function<void(uint32_t seq, int error)>& on_error) {
        if (Status s = fit_buffers(length, acked.size()); !s.ok())
                return s;
        discard_queued();
        if (mnl_socket_sendto(socket_.get(), buffer, length) < 0)
                return errno_error("send netlink batch", errno);

        std::set<uint32_t> pending(acked.begin(), acked.end());
        bool failed = false;
        auto& buf = buffer_;
        // The kernel processes the whole batch inside sendmsg(), so every
        // acknowledgement is queued by now: this loop never waits on it.
        while (!pending.empty() && !(stop_at_error && failed)) {
                const ssize_t n = mnl_socket_recvfrom(socket_.get(), buf.data(), buf.size());
                if (n < 0)
                        return errno_error("receive netlink batch reply", errno);
                int left = static_cast<int>(n);
                for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
                     mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
                        if (nlh->nlmsg_type != NLMSG_ERROR || pending.erase(nlh->nlmsg_seq) == 0)
                                continue;
                        const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
                        if (err->error != 0 && !(stop_at_error && failed)) {
                                failed = true;
                                on_error(nlh->nlmsg_seq, -err->error);
                        }
                }
        }
        // After an error an nftables transaction is aborted; drop what else
        // the kernel queued so the next request starts clean.
        discard_queued();
        return Ok{};
}

Status NetlinkSocket::transact(const void* buffer, size_t length,
                               const std::vector<uint32_t>& acked,
                               const std::function<std::string(uint32_t)>& describe) {
        std::string first_error;
        int first_errno = 0;
        Status s = send_and_collect(buffer, length, acked, true, [&](uint32_t seq, int error) {
                first_error = describe(seq);
                first_errno = error;
        });
        if (!s.ok())
                return s;
        if (!first_error.empty())
                return errno_error(first_error, first_errno);
        return Ok{};
}

Status NetlinkSocket::request_each(const void* buffer, size_t length,
                                   const std::vector<uint32_t>& acked,
                                   const std::function<void(uint32_t seq, int error)>& on_error) {
        return send_and_collect(buffer, length, acked, false, on_error);
}

NetlinkSocket::DrainResult NetlinkSocket::drain(const MessageHandler& on_event) {
        auto& buf = buffer_;
        DrainResult result;
        for (;;) {
                const ssize_t n = recv(fd(), buf.data(), buf.size(), MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return result;
                        if (errno == EINTR)
                                continue;
                        if (errno == ENOBUFS) {
                                result.overrun = true;
                                continue;
                        }
                        result.status = errno_error("receive netlink event", errno);
                        return result;
                }
                const int r = mnl_cb_run(buf.data(), static_cast<size_t>(n), 0, 0, dispatch,
                                         const_cast<MessageHandler*>(&on_event));
                if (r < 0 && errno != ENOENT) {
                        result.status = Error{std::string("Could not parse netlink event: ") +
                                              std::strerror(errno)};
                        return result;
                }
        }
}

}  // namespace natd
