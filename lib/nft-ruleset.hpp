// natd's nftables table in the kernel: the atomic batch that replaces it
// whole, and the read-back that verification compares with the plan.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "netlink-socket.hpp"
#include "result.hpp"
#include "ruleset-plan.hpp"

namespace natd {

// One nfnetlink transaction, ready to send. Pure: built without a kernel.
struct NftBatch {
        std::vector<char> bytes;
        std::vector<uint32_t> acked;                   // sequence numbers that expect an ACK
        std::map<uint32_t, std::string> descriptions;  // seq -> "add rule natd forward ..."
};

// add table (no-op if present), delete table, add table, chains, rules: the
// kernel applies all of it or none, and touches no other table.
NftBatch build_replace_batch(const RulesetPlan& plan, uint32_t first_seq);

// Creates and deletes, in one transaction, a table "natd-probe" with a
// flowtable: Ok when the kernel has nftables flowtables (nf_flow_table).
Status probe_flowtable_support(NetlinkSocket& nfnl);

// The comment natd puts on each rule, naming its role, so that operators
// reading `nft list ruleset` and natd-ctl reading counters without natd
// both know which rule is which: "natd: masquerade".
std::string rule_comment(RuleRole role);

// A rule's expressions in libnftnl's notation, counters without values:
// "meta load iifname => reg 1", "cmp eq reg 1 0x...", "counter", ...
std::vector<std::string> render_rule(const RulePlan& rule);

struct KernelChain {
        std::string name;
        bool base = false;
        std::string type;  // "filter", "nat"
        uint32_t hook = 0;
        int32_t priority = 0;
        uint32_t policy = 0;
};

struct KernelRule {
        std::string chain;
        uint64_t handle = 0;
        std::string comment;                   // natd's: "natd: <role>" (rule_comment())
        std::vector<std::string> expressions;  // as render_rule()
        uint64_t packets = 0;                  // from the rule's counter
        uint64_t bytes = 0;
};

struct KernelRuleset {
        bool present = false;
        uint32_t flags = 0;  // NFT_TABLE_F_*: dormant, owner, ...
        std::vector<KernelChain> chains;
        std::vector<KernelRule> rules;  // kernel order within each chain
};

Result<KernelRuleset> read_ruleset(NetlinkSocket& nfnl, const std::string& table);

// Pure: one reply message of read_ruleset()'s GETTABLE, GETCHAIN and GETRULE
// requests, added to `kernel` (chains and rules of other tables than `table`
// are skipped); false when libnftnl cannot parse it, and read_ruleset()
// fails then.
bool parse_table_message(const nlmsghdr* reply, KernelRuleset& kernel);
bool parse_chain_message(const nlmsghdr* reply, const std::string& table, KernelRuleset& kernel);
bool parse_rule_message(const nlmsghdr* reply, const std::string& table, KernelRuleset& kernel);

// Every difference between the plan and the kernel, one sentence each;
// empty when the kernel holds exactly the plan.
std::vector<std::string> compare_ruleset(const RulesetPlan& plan, const KernelRuleset& kernel);

// Sends build_replace_batch() as one transaction.
Status replace_ruleset(NetlinkSocket& nfnl, const RulesetPlan& plan);

// Deletes natd's table, and nothing else; an absent table is fine.
Status delete_ruleset(NetlinkSocket& nfnl, const std::string& table);

}  // namespace natd
