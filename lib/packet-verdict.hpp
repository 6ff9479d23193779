// Foreign nftables chains evaluated against abstract NAT packets: does
// another table drop what natd forwards? nftables runs every base chain on
// a hook, so an accept in natd's table does not override another table's
// drop; but an earlier accept in that other chain (Docker's DOCKER-USER, a
// hardened firewall opened for NAT) does let NAT traffic through. Pure: the
// chains come as plain data (foreign-rules.cpp reads them from the kernel).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ipv4.hpp"

namespace natd {

// What a packet field is compared with, as far as natd understands it.
struct NftMatch {
        enum class Field { InputName, OutputName, CtState, Source, Destination, Unknown };
        Field field = Field::Unknown;
        bool negate = false;     // != instead of ==
        std::string name;        // InputName, OutputName
        uint32_t ct_states = 0;  // CtState: NF_CT_STATE_BIT mask that must be set (any)
        Ipv4Cidr cidr;           // Source, Destination
        std::string text;        // as natd prints it: iifname "ens6", ct state invalid, ...
        bool prefix = false;     // InputName, OutputName: a wildcard ("ens*", iptables' "ens+")

        bool operator==(const NftMatch&) const = default;
};

struct NftVerdict {
        enum class Kind { Continue, Accept, Drop, Reject, Jump, Goto, Return };
        Kind kind = Kind::Continue;
        std::string chain;  // Jump, Goto

        bool operator==(const NftVerdict&) const = default;
};

struct NftRule {
        uint64_t handle = 0;  // nftables' handle; iptables-legacy: the rule's number
        std::vector<NftMatch> matches;
        NftVerdict verdict;
        std::string text;  // set when the rule reads better as its own tool prints it

        bool operator==(const NftRule&) const = default;
};

enum class NftHook { Prerouting, Forward, Postrouting, Other };

struct NftChain {
        std::string family;  // "ip", "inet"; kLegacyFamily (xtables-rules.hpp)
        std::string table;
        std::string name;
        std::optional<NftHook> hook;  // set for base chains
        int32_t priority = 0;
        bool policy_drop = false;
        std::vector<NftRule> rules;

        bool operator==(const NftChain&) const = default;
};

// A NAT packet as the hooks see it. `output` is empty in prerouting.
struct NatPacket {
        std::string description;  // "new NAT traffic 10.0.2.0/24 -> internet"
        std::string input;
        std::string output;
        Ipv4Address source;
        Ipv4Address destination;
        uint32_t ct_state = 0;  // one NF_CT_STATE_BIT

        bool operator==(const NatPacket&) const = default;
};

// The packets natd checks: new and established traffic from the private
// ENI to the public one (from a host of `source`), and the replies.
std::vector<NatPacket> nat_packets(const std::string& public_ifname,
                                   const std::string& private_ifname, const Ipv4Cidr& source);

// "iifname \"ens6\" oifname \"ens5\" counter drop", for reports (or the
// rule's own text).
std::string describe(const NftRule& rule);

// One sentence per chain position that drops (or, behind a match natd does
// not understand, may drop) one of `packets`, naming the table, chain and
// rule handle, or the chain's policy; each at most once.
std::vector<std::string> find_blockers(const std::vector<NftChain>& chains,
                                       const std::vector<NatPacket>& packets);

}  // namespace natd
