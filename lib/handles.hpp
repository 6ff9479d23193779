// RAII ownership of the C handles natd uses. A function-pointer deleter
// keeps each alias one pointer wide.
#pragma once

#include <memory>
#include <microhttpd.h>
#include <unistd.h>
#include <utility>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

namespace natd {

template <auto Fn>
struct FreeWith {
        template <typename T>
        void operator()(T* p) const {
                if (p != nullptr)
                        Fn(p);
        }
};

using MnlSocketPtr = std::unique_ptr<mnl_socket, FreeWith<mnl_socket_close>>;
using NftnlTablePtr = std::unique_ptr<nftnl_table, FreeWith<nftnl_table_free>>;
using NftnlChainPtr = std::unique_ptr<nftnl_chain, FreeWith<nftnl_chain_free>>;
using NftnlRulePtr = std::unique_ptr<nftnl_rule, FreeWith<nftnl_rule_free>>;
using NftnlExprPtr = std::unique_ptr<nftnl_expr, FreeWith<nftnl_expr_free>>;
using NftnlBatchPtr = std::unique_ptr<nftnl_batch, FreeWith<nftnl_batch_free>>;
using SdEventPtr = std::unique_ptr<sd_event, FreeWith<sd_event_unref>>;
using SdEventSourcePtr = std::unique_ptr<sd_event_source, FreeWith<sd_event_source_disable_unref>>;
// A file descriptor, closed with its owner; move-only.
class UniqueFd {
public:
        UniqueFd() = default;
        explicit UniqueFd(int fd) : fd_(fd) {}
        ~UniqueFd() { reset(); }
        UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
        UniqueFd& operator=(UniqueFd&& other) noexcept {
                if (this != &other) {
                        reset();
                        fd_ = std::exchange(other.fd_, -1);
                }
                return *this;
        }
        UniqueFd(const UniqueFd&) = delete;
        UniqueFd& operator=(const UniqueFd&) = delete;

        [[nodiscard]] int get() const { return fd_; }
        void reset() {
                if (fd_ >= 0)
                        ::close(std::exchange(fd_, -1));
        }

private:
        int fd_ = -1;
};

using MhdDaemonPtr = std::unique_ptr<MHD_Daemon, FreeWith<MHD_stop_daemon>>;
using MhdResponsePtr = std::unique_ptr<MHD_Response, FreeWith<MHD_destroy_response>>;

using SdBusPtr = std::unique_ptr<sd_bus, FreeWith<sd_bus_flush_close_unref>>;
using SdBusSlotPtr = std::unique_ptr<sd_bus_slot, FreeWith<sd_bus_slot_unref>>;
using SdBusMessagePtr = std::unique_ptr<sd_bus_message, FreeWith<sd_bus_message_unref>>;

}  // namespace natd
