#include "foreign-rules.hpp"

#include <array>
#include <bit>
#include <cstring>
#include <map>

#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include "handles.hpp"
#include "ruleset-plan.hpp"
#include "xtables-rules.hpp"

namespace natd {

namespace {

const char* family_name(uint32_t family) {
        return family == NFPROTO_INET ? "inet" : "ip";
}

std::optional<NftHook> hook_of(uint32_t hooknum) {
        switch (hooknum) {
        case NF_INET_PRE_ROUTING:
                return NftHook::Prerouting;
        case NF_INET_FORWARD:
                return NftHook::Forward;
        case NF_INET_POST_ROUTING:
                return NftHook::Postrouting;
        default:
                return NftHook::Other;
        }
}

std::string ct_state_names(uint32_t bits) {
        std::string out;
        for (auto [bit, name] : {std::pair{NF_CT_STATE_INVALID_BIT, "invalid"},
                                 std::pair{NF_CT_STATE_BIT(IP_CT_ESTABLISHED), "established"},
                                 std::pair{NF_CT_STATE_BIT(IP_CT_RELATED), "related"},
                                 std::pair{NF_CT_STATE_BIT(IP_CT_NEW), "new"},
                                 std::pair{NF_CT_STATE_UNTRACKED_BIT, "untracked"}})
                if ((bits & static_cast<uint32_t>(bit)) != 0)
                        out += (out.empty() ? "" : ",") + std::string(name);
        return out;
}

// What a register holds, as far as the rule's expressions said.
struct Register {
        enum class Source {
                Unknown,
                InputName,
                OutputName,
                CtState,
                Saddr,
                Daddr
        } source = Source::Unknown;
        std::string what;  // for Unknown: "meta l4proto", "payload", ...
        uint32_t length = 0;
        std::optional<std::array<uint8_t, 4>> mask;  // from bitwise
};

// Turns one rule's expressions into matches and a verdict.
class RuleReader {
public:
        NftRule rule;

        void expression(nftnl_expr* e) {
                const std::string name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
                if (name == "meta")
                        meta(e);
                else if (name == "ct")
                        ct(e);
                else if (name == "payload")
                        payload(e);
                else if (name == "bitwise")
                        bitwise(e);
                else if (name == "cmp")
                        cmp(e);
                else if (name == "immediate")
                        immediate(e);
                else if (name == "reject")
                        rule.verdict.kind = NftVerdict::Kind::Reject;
                else if (name == "target")
                        target(e);
                else if (name == "lookup")
                        lookup(e);
                else if (name == "match")
                        xt_match(e);
                else if (name == "counter" || name == "log" || name == "nat" || name == "masq" ||
                         name == "redir" || name == "notrack")
                        return;  // transparent to the verdict
                else
                        unknown(name);
        }

private:
        // iptables-nft's compat match: an x_tables match's data, as in
        // iptables-legacy ("-m conntrack --ctstate ..." is one).
        void xt_match(nftnl_expr* e) {
                uint32_t len = 0;
                const auto* info = static_cast<const uint8_t*>(
                        nftnl_expr_get_data(e, NFTNL_EXPR_MT_INFO, &len));
                const char* mt = nftnl_expr_get_str(e, NFTNL_EXPR_MT_NAME);
                if (mt == nullptr || info == nullptr) {
                        unknown("match");
                        return;
                }
                const std::vector<uint8_t> data(info, info + len);
                if (auto m = xtables_match(
                            mt, static_cast<uint8_t>(nftnl_expr_get_u32(e, NFTNL_EXPR_MT_REV)),
                            data))
                        rule.matches.push_back(std::move(*m));
        }
        void unknown(const std::string& what) {
                NftMatch m;
                m.text = what;
                rule.matches.push_back(std::move(m));
        }
        void meta(nftnl_expr* e) {
                if (!nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG))
                        return;  // meta set: no match
                Register r;
                const uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);
                if (key == NFT_META_IIFNAME)
                        r.source = Register::Source::InputName;
                else if (key == NFT_META_OIFNAME)
                        r.source = Register::Source::OutputName;
                else
                        r.what = "meta key " + std::to_string(key);
                regs_[nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG)] = r;
        }
        void ct(nftnl_expr* e) {
                if (!nftnl_expr_is_set(e, NFTNL_EXPR_CT_DREG))
                        return;
                Register r;
                if (nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY) == NFT_CT_STATE)
                        r.source = Register::Source::CtState;
                else
                        r.what = "ct key " +
                                 std::to_string(nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY));
                regs_[nftnl_expr_get_u32(e, NFTNL_EXPR_CT_DREG)] = r;
        }
        void payload(nftnl_expr* e) {
                Register r;
                const uint32_t base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
                const uint32_t offset = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
                r.length = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
                if (base == NFT_PAYLOAD_NETWORK_HEADER && offset == 12 && r.length <= 4)
                        r.source = Register::Source::Saddr;
                else if (base == NFT_PAYLOAD_NETWORK_HEADER && offset == 16 && r.length <= 4)
                        r.source = Register::Source::Daddr;
                else
                        r.what = "a header field (payload base " + std::to_string(base) +
                                 " offset " + std::to_string(offset) + ")";
                regs_[nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG)] = r;
        }
        void bitwise(nftnl_expr* e) {
                Register r = regs_[nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG)];
                uint32_t len = 0;
                const auto* mask = static_cast<const uint8_t*>(
                        nftnl_expr_get_data(e, NFTNL_EXPR_BITWISE_MASK, &len));
                if (mask != nullptr && len <= 4) {
                        std::array<uint8_t, 4> m{};
                        std::memcpy(m.data(), mask, len);
                        r.mask = m;
                } else {
                        r.source = Register::Source::Unknown;
                        r.what = "a bitwise operation";
                }
                regs_[nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG)] = r;
        }
        void cmp(nftnl_expr* e) {
                const Register r = regs_[nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG)];
                const uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);
                uint32_t len = 0;
                const auto* data = static_cast<const uint8_t*>(
                        nftnl_expr_get_data(e, NFTNL_EXPR_CMP_DATA, &len));
                if ((op != NFT_CMP_EQ && op != NFT_CMP_NEQ) || data == nullptr) {
                        unknown(r.source == Register::Source::Unknown ? r.what : "a comparison");
                        return;
                }
                const bool negate = op == NFT_CMP_NEQ;
                NftMatch m;
                m.negate = negate;
                const char* eq = negate ? " != " : " ";
                switch (r.source) {
                case Register::Source::InputName:
                case Register::Source::OutputName: {
                        const bool input = r.source == Register::Source::InputName;
                        const size_t n = strnlen(reinterpret_cast<const char*>(data), len);
                        m.name.assign(reinterpret_cast<const char*>(data), n);
                        const std::string key = input ? "iifname" : "oifname";
                        m.prefix = n == len;  // no terminating zero: a wildcard prefix
                        m.field = input ? NftMatch::Field::InputName : NftMatch::Field::OutputName;
                        m.text = key + eq + "\"" + m.name + (m.prefix ? "*" : "") + "\"";
                        break;
                }
                case Register::Source::CtState: {
                        uint32_t value = 0;
                        std::memcpy(&value, data, std::min<uint32_t>(len, sizeof(value)));
                        uint32_t mask = 0;
                        if (r.mask)
                                std::memcpy(&mask, r.mask->data(), sizeof(mask));
                        m.field = NftMatch::Field::CtState;
                        if (r.mask && value == 0) {
                                // (state & mask) != 0: one of them; == 0: none of them.
                                m.ct_states = mask;
                                m.negate = op == NFT_CMP_EQ;
                        } else if (!r.mask && std::has_single_bit(value)) {
                                m.ct_states = value;
                        } else {
                                unknown("ct state comparison");
                                return;
                        }
                        m.text = std::string("ct state") + (m.negate ? " != " : " ") +
                                 ct_state_names(m.ct_states);
                        break;
                }
                case Register::Source::Saddr:
                case Register::Source::Daddr: {
                        std::array<uint8_t, 4> bytes{};
                        std::memcpy(bytes.data(), data, std::min<uint32_t>(len, 4));
                        unsigned prefix = r.length * 8;
                        if (r.mask) {
                                prefix = 0;
                                for (uint8_t b : *r.mask)
                                        prefix += static_cast<unsigned>(std::popcount(b));
                        }
                        uint32_t network_order = 0;
                        std::memcpy(&network_order, bytes.data(), 4);
                        m.field = r.source == Register::Source::Saddr
                                          ? NftMatch::Field::Source
                                          : NftMatch::Field::Destination;
                        m.cidr = Ipv4Cidr(Ipv4Address::from_network(network_order), prefix);
                        m.text = std::string(m.field == NftMatch::Field::Source ? "ip saddr"
                                                                                : "ip daddr") +
                                 eq + m.cidr.str();
                        break;
                }
                case Register::Source::Unknown:
                        unknown(r.what.empty() ? "a comparison" : r.what);
                        return;
                }
                rule.matches.push_back(std::move(m));
        }
        void immediate(nftnl_expr* e) {
                if (nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) != NFT_REG_VERDICT)
                        return;
                const auto verdict =
                        static_cast<int>(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT));
                auto& v = rule.verdict;
                switch (verdict) {
                case NF_ACCEPT:
                        v.kind = NftVerdict::Kind::Accept;
                        break;
                case NF_DROP:
                        v.kind = NftVerdict::Kind::Drop;
                        break;
                case NFT_RETURN:
                        v.kind = NftVerdict::Kind::Return;
                        break;
                case NFT_JUMP:
                case NFT_GOTO:
                        v.kind = verdict == NFT_JUMP ? NftVerdict::Kind::Jump
                                                     : NftVerdict::Kind::Goto;
                        if (const char* c = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN))
                                v.chain = c;
                        break;
                default:
                        break;  // NFT_CONTINUE, NFT_BREAK
                }
        }
        void target(nftnl_expr* e) {
                const char* t = nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME);
                const std::string name = t != nullptr ? t : "";
                if (name == "REJECT")
                        rule.verdict.kind = NftVerdict::Kind::Reject;
                else if (name == "DROP")
                        rule.verdict.kind = NftVerdict::Kind::Drop;
                else if (name == "ACCEPT")
                        rule.verdict.kind = NftVerdict::Kind::Accept;
        }
        void lookup(nftnl_expr* e) {
                // A set or a verdict map: natd does not read set contents.
                const bool vmap = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG) &&
                                  nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG) == NFT_REG_VERDICT;
                const char* set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
                unknown(std::string(vmap ? "a verdict map" : "a set lookup") +
                        (set != nullptr ? std::string(" (") + set + ")" : ""));
                if (vmap)
                        rule.verdict = {NftVerdict::Kind::Jump, ""};  // somewhere: unknown
        }

        std::map<uint32_t, Register> regs_;
};

int read_expression(nftnl_expr* e, void* data) {
        static_cast<RuleReader*>(data)->expression(e);
        return MNL_CB_OK;
}

}  // namespace

Result<std::vector<NftChain>> read_foreign_chains(NetlinkSocket& nfnl) {
        std::array<char, kRequestBufferSize> buf{};
        std::vector<NftChain> chains;
        auto foreign = [](uint32_t family, const std::string& table) {
                return (family == NFPROTO_IPV4 || family == NFPROTO_INET) &&
                       !(family == NFPROTO_IPV4 && table == kTableName);
        };
        auto* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NLM_F_DUMP,
                                          nfnl.next_seq());
        Status s = nfnl.request(
                nlh,
                [&](const nlmsghdr* reply) {
                        NftnlChainPtr c(nftnl_chain_alloc());
                        if (nftnl_chain_nlmsg_parse(reply, c.get()) < 0)
                                return MNL_CB_ERROR;
                        const uint32_t family = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_FAMILY);
                        const std::string table = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE);
                        if (!foreign(family, table))
                                return MNL_CB_OK;
                        NftChain chain;
                        chain.family = family_name(family);
                        chain.table = table;
                        chain.name = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME);
                        if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM)) {
                                chain.hook =
                                        hook_of(nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM));
                                chain.priority = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
                                chain.policy_drop =
                                        nftnl_chain_is_set(c.get(), NFTNL_CHAIN_POLICY) &&
                                        nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY) == NF_DROP;
                        }
                        chains.push_back(std::move(chain));
                        return MNL_CB_OK;
                },
                [&] { chains.clear(); });
        if (!s.ok())
                return s.failure().wrapped("Could not list nftables chains");

        nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETRULE, NFPROTO_UNSPEC, NLM_F_DUMP,
                                    nfnl.next_seq());
        std::vector<std::pair<std::array<std::string, 3>, NftRule>> rules;
        s = nfnl.request(
                nlh,
                [&](const nlmsghdr* reply) {
                        NftnlRulePtr r(nftnl_rule_alloc());
                        if (nftnl_rule_nlmsg_parse(reply, r.get()) < 0)
                                return MNL_CB_ERROR;
                        const uint32_t family = nftnl_rule_get_u32(r.get(), NFTNL_RULE_FAMILY);
                        const std::string table = nftnl_rule_get_str(r.get(), NFTNL_RULE_TABLE);
                        if (!foreign(family, table))
                                return MNL_CB_OK;
                        RuleReader reader;
                        reader.rule.handle = nftnl_rule_get_u64(r.get(), NFTNL_RULE_HANDLE);
                        nftnl_expr_foreach(r.get(), read_expression, &reader);
                        rules.push_back({{family_name(family), table,
                                          nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN)},
                                         reader.rule});
                        return MNL_CB_OK;
                },
                [&] { rules.clear(); });
        if (!s.ok())
                return s.failure().wrapped("Could not list nftables rules");
        // The dump lists each chain's rules in order.
        for (auto& [key, rule] : rules)
                for (auto& c : chains)
                        if (c.family == key[0] && c.table == key[1] && c.name == key[2]) {
                                c.rules.push_back(std::move(rule));
                                break;
                        }
        return chains;
}

Result<std::vector<std::string>> find_forward_blockers(NetlinkSocket& nfnl,
                                                       const std::string& public_ifname,
                                                       const std::string& private_ifname,
                                                       const std::vector<Ipv4Cidr>& sources) {
        auto chains = read_foreign_chains(nfnl);
        if (!chains.ok())
                return chains.failure();
        std::vector<std::string> unreadable;
        if (auto legacy = read_legacy_filter_chains(); !legacy.ok())
                // Not knowing is said, not hidden: it may drop.
                unreadable.push_back(legacy.error() +
                                     "; its FORWARD chain may drop NAT traffic unchecked");
        else if (legacy.value())
                chains.value().insert(chains.value().end(), legacy.value()->begin(),
                                      legacy.value()->end());
        std::vector<NatPacket> packets;
        for (const auto& source : sources) {
                auto some = nat_packets(public_ifname, private_ifname, source);
                packets.insert(packets.end(), some.begin(), some.end());
        }
        auto found = find_blockers(chains.value(), packets);
        found.insert(found.end(), unreadable.begin(), unreadable.end());
        return found;
}

}  // namespace natd
