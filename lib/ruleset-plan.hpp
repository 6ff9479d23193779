// The nftables table natd wants, as plain data: what nft-ruleset.cpp turns
// into libnftnl objects and what verification compares the kernel against.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "forward-policy.hpp"
#include "ipv4.hpp"
#include "nat-options.hpp"

namespace natd {

inline constexpr const char* kTableName = "natd";

enum class ChainType { Filter, Nat };
enum class Hook { Prerouting, Input, Forward, Output, Postrouting };

struct ChainPlan {
        std::string name;
        ChainType type = ChainType::Filter;
        Hook hook = Hook::Forward;
        int32_t priority = 0;  // NF_IP_PRI_FILTER, NF_IP_PRI_NAT_SRC, ...

        bool operator==(const ChainPlan&) const = default;
};

// An nftables flowtable (ingress hook) over the NAT's two ENIs.
struct FlowtablePlan {
        std::string name = "ft";
        std::vector<std::string> devices;
        int32_t priority = 0;

        bool operator==(const FlowtablePlan&) const = default;
};

// What a rule matches. A closed vocabulary: each alternative has exactly
// one encoding in nft-ruleset.cpp.
struct MatchInputInterface {
        std::string name;
        bool operator==(const MatchInputInterface&) const = default;
};
struct MatchOutputInterface {
        std::string name;
        bool operator==(const MatchOutputInterface&) const = default;
};
struct MatchEstablishedRelated {
        bool operator==(const MatchEstablishedRelated&) const = default;
};
struct MatchInvalid {  // ct state invalid
        bool operator==(const MatchInvalid&) const = default;
};
struct MatchSourcePrefix {  // ip saddr 10.0.1.0/24
        Ipv4Cidr prefix;
        bool operator==(const MatchSourcePrefix&) const = default;
};
struct MatchProtocol {         // meta l4proto tcp
        uint8_t protocol = 0;  // IPPROTO_TCP, IPPROTO_UDP
        bool operator==(const MatchProtocol&) const = default;
};
struct MatchTcpSyn {  // meta l4proto tcp tcp flags syn / syn,rst
        bool operator==(const MatchTcpSyn&) const = default;
};
// One address's share of the SNAT pool. Persistent: jhash ip saddr mod
// `modulus` == `value`; random: numgen random mod `modulus` == `value`.
struct MatchPoolSlot {
        PoolMode mode = PoolMode::Persistent;
        uint32_t modulus = 1;
        uint32_t value = 0;
        bool operator==(const MatchPoolSlot&) const = default;
};
using RuleMatch =
        std::variant<MatchInputInterface, MatchOutputInterface, MatchEstablishedRelated,
                     MatchInvalid, MatchSourcePrefix, MatchProtocol, MatchTcpSyn, MatchPoolSlot>;

enum class RuleAction { Accept, Drop, Masquerade, ClampMss, Snat, FlowOffload };

// What a masquerade (or SNAT) rule asks of the kernel's NAT.
struct MasqueradeParams {
        PortAllocation allocation = PortAllocation::Sequential;
        // Only with a MatchProtocol of TCP or UDP: the kernel maps ports
        // only for a known transport protocol.
        std::optional<PortRange> ports;

        bool operator==(const MasqueradeParams&) const = default;
};

// What a rule is for: names its counter in status and logs. Several rules
// may share a role (one per source CIDR); doc/ruleset.txt lists them all.
enum class RuleRole {
        Masquerade,   // private -> public from a source CIDR: masqueraded
        DropInvalid,  // ct state invalid on either ENI
        ForwardOut,   // private -> public from a source CIDR
        DropOut,      // private -> public from any other source
        ReturnIn,     // public -> private, established or related
        DropIn,       // public -> private, anything else
        DropHairpin,  // public -> public
        DropOther,    // ForwardPolicy=drop: whatever else is forwarded
        ClampMss,     // private -> public TCP SYN: MSS clamped
        Snat,         // private -> public from a source CIDR: one address of the pool
        FlowOffload,  // public -> private TCP or UDP: the flow goes into the flowtable
};
const char* rule_role_name(RuleRole role);  // "masquerade", "forward-out", ...

struct RulePlan {
        std::string chain;
        RuleRole role = RuleRole::ForwardOut;
        std::vector<RuleMatch> matches;
        RuleAction action = RuleAction::Accept;
        MasqueradeParams masquerade;  // Masquerade, Snat
        Ipv4Address snat_to;          // Snat
        uint16_t mss = 0;             // ClampMss: the MSS; 0: the route's MTU's
        // Every rule counts: operators read the counters in status.

        bool operator==(const RulePlan&) const = default;
};

struct RulesetPlan {
        std::string table = kTableName;
        std::vector<ChainPlan> chains;
        std::optional<FlowtablePlan> flowtable;  // before the rules that name it
        std::vector<RulePlan> rules;             // in order within each chain

        bool operator==(const RulesetPlan&) const = default;
};

struct NatRulesetInput {
        std::string public_ifname;  // kernel names
        std::string private_ifname;
        std::vector<Ipv4Cidr> source_cidrs;  // resolved: never empty in a plan
        ForwardPolicy forward_policy = ForwardPolicy::Drop;
        PortAllocation port_allocation = PortAllocation::Sequential;
        std::optional<PortRange> port_range;
        ClampMss clamp_mss{ClampMss::Mode::Off, 0};
        bool flow_offload = false;  // a flowtable over both ENIs
        // Non-empty: SNAT to these instead of masquerade.
        std::vector<Ipv4Address> snat_addresses;
        PoolMode pool_mode = PoolMode::Persistent;
        // Private=none: private_ifname is public_ifname; NAT traffic comes
        // in and goes out on it (hairpin).
        bool single_eni = false;
};

// The NAT between a private and a public interface: masquerade and forward
// private->public from the source CIDRs only; forward public->private only
// when established or related; drop invalid packets, public->public and the
// rest of both directions; with ForwardPolicy=drop, drop everything else
// too. Masquerade with the configured port allocation and range; clamp the
// MSS of SYNs to the internet. Single ENI: public->public from the source
// CIDRs out, established or related back, the rest of public->public
// dropped. doc/ruleset.txt describes every rule.
RulesetPlan make_nat_ruleset(const NatRulesetInput& input);

// "iifname ens6 oifname ens5 counter masquerade", for logs and status.
std::string describe(const RulePlan& rule);

}  // namespace natd
