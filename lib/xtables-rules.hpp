// iptables-legacy's filter table, read through the x_tables getsockopt
// interface (IPT_SO_GET_INFO, IPT_SO_GET_ENTRIES) and translated into the
// chains packet-verdict.hpp evaluates. iptables-nft rules live in nftables
// tables and are read by foreign-rules.cpp; these are the rules of hosts that
// still run iptables-legacy, whose FORWARD drops NAT traffic just the same.
//
// Read through the kernel ABI (linux/netfilter_ipv4/ip_tables.h, a stable
// uapi) rather than libiptc: netfilter documents libiptc as not a public
// interface, and natd only reads. x_tables has no change notification, so
// the manager reads the table again on a timer (kLegacyPollUsec).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "packet-verdict.hpp"
#include "result.hpp"

namespace natd {

// The family packet-verdict.hpp reports these chains under.
inline constexpr const char* kLegacyFamily = "iptables-legacy";

// How often natd reads the table again: while it exists, and while it does
// not (a first iptables-legacy command creates it).
inline constexpr uint64_t kLegacyPollUsec = 1'000'000;
inline constexpr uint64_t kLegacyAbsentPollUsec = 5'000'000;

// What IPT_SO_GET_INFO and IPT_SO_GET_ENTRIES return for one table.
struct XtablesTable {
        uint32_t valid_hooks = 0;
        std::array<uint32_t, 5> hook_entry{};  // NF_INET_NUMHOOKS
        std::array<uint32_t, 5> underflow{};
        std::vector<uint8_t> entries;  // the ipt_entry blob
};

// The table's chains: built-in ones with their hook and policy, user-defined
// ones by name; rules numbered from 1 in each chain as `iptables -L
// --line-numbers` does. What natd does not understand (protocols, ports,
// most matches, unknown targets) becomes an Unknown match. A malformed blob
// is an error, never a crash.
Result<std::vector<NftChain>> parse_xtables_filter(const XtablesTable& table);

// One x_tables match ("conntrack" revision 3 and its data, ...) as natd
// evaluates it: iptables-legacy rules hold them, and so do iptables-nft
// rules (nftables' compat "match" expression). nullopt: always true
// ("comment").
std::optional<NftMatch> xtables_match(const std::string& name, uint8_t revision,
                                      const std::vector<uint8_t>& data);

// The filter table of this network namespace; nullopt when it has none
// (`names_file`, /proc/net/ip_tables_names, lists the tables that exist:
// natd never asks for one that does not, which would create it).
Result<std::optional<XtablesTable>>
read_xtables_filter(const std::filesystem::path& names_file = "/proc/net/ip_tables_names");

// read_xtables_filter + parse_xtables_filter.
Result<std::optional<std::vector<NftChain>>> read_legacy_filter_chains();

}  // namespace natd
