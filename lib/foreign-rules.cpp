#include "foreign-rules.hpp"

#include <array>
#include <cstring>

#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include "handles.hpp"
#include "ruleset-plan.hpp"

namespace natd {

namespace {

const char* family_name(uint32_t family) {
        switch (family) {
        case NFPROTO_INET:
                return "inet";
        case NFPROTO_IPV4:
                return "ip";
        default:
                return "other";
        }
}

struct ForwardChain {
        uint32_t family = 0;
        std::string table;
        std::string name;
        bool policy_drop = false;
};

// What a rule does to forwarded traffic, from its expressions.
struct RuleShape {
        bool conditional = false;  // matches something: not every packet
        bool blocks = false;
        std::string verdict;
};

int inspect_expr(nftnl_expr* e, void* data) {
        auto* shape = static_cast<RuleShape*>(data);
        const std::string name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
        // Anything but counting, logging and the verdict makes the rule
        // conditional ("ct state invalid drop" is no blocker).
        if (name != "counter" && name != "log" && name != "immediate" && name != "reject" &&
            name != "target")
                shape->conditional = true;
        if (name == "reject") {
                shape->blocks = true;
                shape->verdict = "reject";
        } else if (name == "immediate" && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT) &&
                   static_cast<int>(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT)) == NF_DROP) {
                shape->blocks = true;
                shape->verdict = "drop";
        } else if (name == "target") {  // iptables-nft's xtables targets
                const char* target = nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME);
                if (target != nullptr &&
                    (std::strcmp(target, "REJECT") == 0 || std::strcmp(target, "DROP") == 0)) {
                        shape->blocks = true;
                        shape->verdict = target;
                }
        }
        return 0;
}

}  // namespace

Result<std::vector<std::string>> find_forward_blockers(NetlinkSocket& nfnl) {
        std::array<char, kRequestBufferSize> buf{};
        std::vector<ForwardChain> chains;
        auto* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NLM_F_DUMP,
                                          nfnl.next_seq());
        Status s = nfnl.request(nlh, [&](const nlmsghdr* reply) {
                NftnlChainPtr c(nftnl_chain_alloc());
                if (nftnl_chain_nlmsg_parse(reply, c.get()) < 0)
                        return MNL_CB_ERROR;
                const uint32_t family = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_FAMILY);
                const std::string table = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE);
                if ((family != NFPROTO_IPV4 && family != NFPROTO_INET) ||
                    (family == NFPROTO_IPV4 && table == kTableName) ||
                    !nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM) ||
                    nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM) != NF_INET_FORWARD)
                        return MNL_CB_OK;
                chains.push_back(
                        {family, table, nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME),
                         nftnl_chain_is_set(c.get(), NFTNL_CHAIN_POLICY) &&
                                 nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY) == NF_DROP});
                return MNL_CB_OK;
        });
        if (!s.ok())
                return s.failure().wrapped("Could not list nftables chains");

        std::vector<std::string> blockers;
        for (const auto& chain : chains) {
                const std::string where = std::string("table ") + family_name(chain.family) + " " +
                                          chain.table + " chain " + chain.name;
                if (chain.policy_drop)
                        blockers.push_back(where +
                                           " (forward hook) has policy drop: forwarded NAT "
                                           "traffic is dropped unless that chain accepts it");
                NftnlRulePtr filter(nftnl_rule_alloc());
                nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, chain.table.c_str());
                nftnl_rule_set_str(filter.get(), NFTNL_RULE_CHAIN, chain.name.c_str());
                nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETRULE,
                                            static_cast<uint16_t>(chain.family), NLM_F_DUMP,
                                            nfnl.next_seq());
                nftnl_rule_nlmsg_build_payload(nlh, filter.get());
                s = nfnl.request(nlh, [&](const nlmsghdr* reply) {
                        NftnlRulePtr r(nftnl_rule_alloc());
                        if (nftnl_rule_nlmsg_parse(reply, r.get()) < 0)
                                return MNL_CB_ERROR;
                        if (chain.name != nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN))
                                return MNL_CB_OK;
                        RuleShape shape;
                        nftnl_expr_foreach(r.get(), inspect_expr, &shape);
                        if (shape.blocks && !shape.conditional)
                                blockers.push_back(
                                        where + " rule handle " +
                                        std::to_string(
                                                nftnl_rule_get_u64(r.get(), NFTNL_RULE_HANDLE)) +
                                        " (" + shape.verdict +
                                        ") blocks forwarded traffic, NAT traffic included");
                        return MNL_CB_OK;
                });
                if (!s.ok())
                        return s.failure().wrapped("Could not list the rules of " + where);
        }
        return blockers;
}

}  // namespace natd
