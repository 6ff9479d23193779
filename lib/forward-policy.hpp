// [NAT] ForwardPolicy=: what natd's forward chain does with the forwarded
// traffic it has no rule for.
#pragma once

namespace natd {

enum class ForwardPolicy {
        // Drop and count it: the host forwards nothing but the NAT's traffic.
        Drop,
        // Let it pass: the host also forwards for other interfaces (Docker,
        // a VPN); natd drops only what concerns its two ENIs.
        Accept,
};

}  // namespace natd
