// The imperative edge: writes a NatPlan into the kernel and reads the
// kernel back to verify it. Everything else in natd only computes.
#pragma once

#include <string>
#include <vector>

#include "netlink-socket.hpp"
#include "plan.hpp"
#include "result.hpp"

namespace natd {

class KernelCommitter {
public:
        static Result<KernelCommitter> open();

        // Forwarding, then the nftables table in one transaction, then the
        // return routes (natd's own routes that the plan no longer has are
        // removed). Every failure is reported; a failed step does not stop
        // the independent ones after it.
        Status apply(const NatPlan& plan);

        // Reads forwarding, the table and the routes back; one sentence per
        // difference from the plan or per read failure. Empty: verified.
        std::vector<std::string> verify(const NatPlan& plan);

private:
        KernelCommitter(NetlinkSocket rtnl, NetlinkSocket nfnl)
            : rtnl_(std::move(rtnl)), nfnl_(std::move(nfnl)) {}

        NetlinkSocket rtnl_;
        NetlinkSocket nfnl_;
};

}  // namespace natd
