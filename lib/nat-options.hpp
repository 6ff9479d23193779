// How natd translates: [NAT] PortAllocation=, PortRange= and ClampMSS=.
// Plain values the configuration holds and the ruleset planner turns into
// masquerade flags and an MSS clamping rule.
#pragma once

#include <cstdint>
#include <string_view>

namespace natd {

// How masquerade picks the source port of a new connection (the kernel's
// NAT range flags). FullyRandom is the default, by measurement
// (bench/results-port-allocation.md): it costs nothing per connection, and
// Sequential loses first SYNs (insert_failed) when clients connect from the
// same source port to one destination at once; the modes do not differ
// when the port must be mapped anyway (current kernels start that search at
// random whatever the flags).
enum class PortAllocation {
        // The kernel's default: keep the client's port when free, else
        // search.
        Sequential,
        // NF_NAT_RANGE_PROTO_RANDOM: never the client's port; the search
        // starts at a keyed hash (older kernels) or at random.
        Random,
        // NF_NAT_RANGE_PROTO_RANDOM_FULLY: a fresh random start for every
        // connection on every kernel; clients that connect to one
        // destination at once do not race for the same port.
        FullyRandom,
};

// How a connection picks its address from [NAT] Addresses=.
enum class PoolMode {
        Persistent,  // by a hash of the client's address: the same one every time
        Random,      // at random, for every connection
};

// [NAT] FlowOffload=: established flows bypass the forward path through an
// nftables flowtable.
enum class FlowOffload {
        Auto,  // where the kernel has flowtables; said in status where not
        Yes,   // required: natd applies nothing on a kernel without them
        No,
};

// [Discovery] IMDS=: whether natd asks the instance metadata service.
enum class ImdsMode {
        Auto,  // when it answers; natd carries on without it and says so
        Yes,   // required: what needs it waits until it answers
        No,
};

inline constexpr std::string_view kDefaultImdsEndpoint = "http://169.254.169.254";

// The source ports masquerade may use, inclusive.
struct PortRange {
        uint16_t first = 0;
        uint16_t last = 0;

        bool operator==(const PortRange&) const = default;
};

// TCP MSS clamping of SYNs leaving the public ENI: a VPC's MTU is 9001,
// the internet's 1500, and without clamping large-MTU clients hang where
// path MTU discovery is blocked.
struct ClampMss {
        enum class Mode {
                Auto,   // to the route's MTU ("rt mtu"): 1460 on a 1500 path
                Off,    // no clamping
                Fixed,  // to `value`
        };
        Mode mode = Mode::Auto;
        uint16_t value = 0;  // Fixed

        bool operator==(const ClampMss&) const = default;
};

}  // namespace natd
