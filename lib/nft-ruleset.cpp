#include "nft-ruleset.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "handles.hpp"

namespace natd {

namespace {

constexpr uint16_t kFamily = NFPROTO_IPV4;
// Room for any one message natd builds (a rule is a few hundred bytes).
constexpr size_t kMessageBufferSize = size_t{16} * 1024;
// The source address in an IPv4 header (RFC 791).
constexpr uint32_t kIpv4SourceOffset = 12;

uint32_t hook_number(Hook hook) {
        switch (hook) {
        case Hook::Prerouting:
                return NF_INET_PRE_ROUTING;
        case Hook::Input:
                return NF_INET_LOCAL_IN;
        case Hook::Forward:
                return NF_INET_FORWARD;
        case Hook::Output:
                return NF_INET_LOCAL_OUT;
        case Hook::Postrouting:
                return NF_INET_POST_ROUTING;
        }
        return NF_INET_FORWARD;
}

const char* chain_type_name(ChainType type) {
        return type == ChainType::Nat ? "nat" : "filter";
}

NftnlExprPtr make_expr(const char* name) {
        NftnlExprPtr e(nftnl_expr_alloc(name));
        if (!e)
                throw std::bad_alloc();
        return e;
}

void add(nftnl_rule* rule, NftnlExprPtr expr) {
        nftnl_rule_add_expr(rule, expr.release());
}

// reg 1 = reg 1 & MASK (a 32-bit register; MASK as the register holds it).
void add_bitwise_and(nftnl_rule* rule, uint32_t mask) {
        const uint32_t zero = 0;
        auto bitwise = make_expr("bitwise");
        nftnl_expr_set_u32(bitwise.get(), NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(bitwise.get(), NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(bitwise.get(), NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
        nftnl_expr_set_data(bitwise.get(), NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
        nftnl_expr_set_data(bitwise.get(), NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
        add(rule, std::move(bitwise));
}

void add_ifname_match(nftnl_rule* rule, uint32_t meta_key, const std::string& ifname) {
        auto meta = make_expr("meta");
        nftnl_expr_set_u32(meta.get(), NFTNL_EXPR_META_KEY, meta_key);
        nftnl_expr_set_u32(meta.get(), NFTNL_EXPR_META_DREG, NFT_REG_1);
        add(rule, std::move(meta));
        // meta ifname loads IFNAMSIZ bytes, zero padded: compare all of them
        // so "ens5" does not also match "ens50".
        std::array<char, 16> padded{};
        std::memcpy(padded.data(), ifname.data(), std::min(ifname.size(), padded.size() - 1));
        auto cmp = make_expr("cmp");
        nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
        nftnl_expr_set_data(cmp.get(), NFTNL_EXPR_CMP_DATA, padded.data(), padded.size());
        add(rule, std::move(cmp));
}

// ct state & MASK != 0: "ct state established,related", "ct state invalid".
void add_ct_state_match(nftnl_rule* rule, uint32_t mask) {
        auto ct = make_expr("ct");
        nftnl_expr_set_u32(ct.get(), NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
        nftnl_expr_set_u32(ct.get(), NFTNL_EXPR_CT_DREG, NFT_REG_1);
        add(rule, std::move(ct));
        const uint32_t zero = 0;
        add_bitwise_and(rule, mask);
        auto cmp = make_expr("cmp");
        nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
        nftnl_expr_set_data(cmp.get(), NFTNL_EXPR_CMP_DATA, &zero, sizeof(zero));
        add(rule, std::move(cmp));
}

// "ip saddr 10.0.1.0/24" encoded as nft encodes it, so that a rule written
// by hand reads back the same: a prefix of whole bytes loads and compares
// just those bytes; any other loads the address and masks it first.
void add_source_prefix_match(nftnl_rule* rule, const Ipv4Cidr& prefix) {
        const unsigned bits = prefix.prefix_len();
        const bool whole_bytes = bits > 0 && bits % 8 == 0;
        const uint32_t length = whole_bytes ? bits / 8 : sizeof(uint32_t);
        auto payload = make_expr("payload");
        nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
        nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_OFFSET, kIpv4SourceOffset);
        nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_LEN, length);
        nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
        add(rule, std::move(payload));
        if (!whole_bytes)
                add_bitwise_and(rule, Ipv4Address(prefix.netmask()).network_order());
        const uint32_t network = prefix.network().address().network_order();
        auto cmp = make_expr("cmp");
        nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
        // The first `length` bytes of the address in network order.
        nftnl_expr_set_data(cmp.get(), NFTNL_EXPR_CMP_DATA, &network, length);
        add(rule, std::move(cmp));
}

// meta l4proto PROTOCOL.
void add_protocol_match(nftnl_rule* rule, uint8_t protocol) {
        auto meta = make_expr("meta");
        nftnl_expr_set_u32(meta.get(), NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
        nftnl_expr_set_u32(meta.get(), NFTNL_EXPR_META_DREG, NFT_REG_1);
        add(rule, std::move(meta));
        auto cmp = make_expr("cmp");
        nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
        nftnl_expr_set_data(cmp.get(), NFTNL_EXPR_CMP_DATA, &protocol, sizeof(protocol));
        add(rule, std::move(cmp));
}

// "tcp flags syn / syn,rst": the TCP flags byte (RFC 9293: offset 13) with
// SYN set and RST clear, after a TCP match, as nft encodes it.
void add_tcp_syn_match(nftnl_rule* rule) {
        constexpr uint32_t kTcpFlagsOffset = 13;
        constexpr uint8_t kSyn = 0x02;
        constexpr uint8_t kRst = 0x04;
        add_protocol_match(rule, IPPROTO_TCP);
        auto payload = make_expr("payload");
        nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
        nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_OFFSET, kTcpFlagsOffset);
        nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_LEN, 1);
        nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
        add(rule, std::move(payload));
        const uint8_t mask = kSyn | kRst;
        const uint8_t zero = 0;
        auto bitwise = make_expr("bitwise");
        nftnl_expr_set_u32(bitwise.get(), NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(bitwise.get(), NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(bitwise.get(), NFTNL_EXPR_BITWISE_LEN, 1);
        nftnl_expr_set_data(bitwise.get(), NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
        nftnl_expr_set_data(bitwise.get(), NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
        add(rule, std::move(bitwise));
        auto cmp = make_expr("cmp");
        nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
        nftnl_expr_set_data(cmp.get(), NFTNL_EXPR_CMP_DATA, &kSyn, sizeof(kSyn));
        add(rule, std::move(cmp));
}

// reg REG = VALUE, a 16-bit value in network order.
void add_immediate16(nftnl_rule* rule, uint32_t reg, uint16_t value) {
        const uint16_t be = htons(value);
        auto imm = make_expr("immediate");
        nftnl_expr_set_u32(imm.get(), NFTNL_EXPR_IMM_DREG, reg);
        nftnl_expr_set_data(imm.get(), NFTNL_EXPR_IMM_DATA, &be, sizeof(be));
        add(rule, std::move(imm));
}

// "tcp option maxseg size set rt mtu" (mss 0) or "... set MSS". The kernel
// writes the option only to lower it (nft_exthdr), so no comparison first.
void add_mss_clamp(nftnl_rule* rule, uint16_t mss) {
        constexpr uint32_t kMssOption = 2;  // TCPOPT_MAXSEG: kind 2, length 4, value at 2
        if (mss == 0) {
                auto rt = make_expr("rt");
                nftnl_expr_set_u32(rt.get(), NFTNL_EXPR_RT_KEY, NFT_RT_TCPMSS);
                nftnl_expr_set_u32(rt.get(), NFTNL_EXPR_RT_DREG, NFT_REG_1);
                add(rule, std::move(rt));
                auto order = make_expr("byteorder");
                nftnl_expr_set_u32(order.get(), NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
                nftnl_expr_set_u32(order.get(), NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
                nftnl_expr_set_u32(order.get(), NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
                nftnl_expr_set_u32(order.get(), NFTNL_EXPR_BYTEORDER_LEN, 2);
                nftnl_expr_set_u32(order.get(), NFTNL_EXPR_BYTEORDER_SIZE, 2);
                add(rule, std::move(order));
        } else {
                add_immediate16(rule, NFT_REG_1, mss);
        }
        auto exthdr = make_expr("exthdr");
        nftnl_expr_set_u32(exthdr.get(), NFTNL_EXPR_EXTHDR_SREG, NFT_REG_1);
        nftnl_expr_set_u8(exthdr.get(), NFTNL_EXPR_EXTHDR_TYPE, kMssOption);
        nftnl_expr_set_u32(exthdr.get(), NFTNL_EXPR_EXTHDR_OFFSET, 2);
        nftnl_expr_set_u32(exthdr.get(), NFTNL_EXPR_EXTHDR_LEN, 2);
        nftnl_expr_set_u32(exthdr.get(), NFTNL_EXPR_EXTHDR_OP, NFT_EXTHDR_OP_TCPOPT);
        add(rule, std::move(exthdr));
}

// "jhash ip saddr mod N seed 0x0 == V" (persistent) or "numgen random mod
// N == V", as nft encodes them.
void add_pool_slot_match(nftnl_rule* rule, const MatchPoolSlot& slot) {
        if (slot.mode == PoolMode::Persistent) {
                auto payload = make_expr("payload");
                nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_BASE,
                                   NFT_PAYLOAD_NETWORK_HEADER);
                nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_OFFSET, kIpv4SourceOffset);
                nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_LEN, sizeof(uint32_t));
                nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_2);
                add(rule, std::move(payload));
                auto hash = make_expr("hash");
                nftnl_expr_set_u32(hash.get(), NFTNL_EXPR_HASH_TYPE, NFT_HASH_JENKINS);
                nftnl_expr_set_u32(hash.get(), NFTNL_EXPR_HASH_SREG, NFT_REG_2);
                nftnl_expr_set_u32(hash.get(), NFTNL_EXPR_HASH_DREG, NFT_REG_1);
                nftnl_expr_set_u32(hash.get(), NFTNL_EXPR_HASH_LEN, sizeof(uint32_t));
                nftnl_expr_set_u32(hash.get(), NFTNL_EXPR_HASH_MODULUS, slot.modulus);
                // A fixed seed: the same client maps to the same address
                // across natd's restarts and table replacements.
                nftnl_expr_set_u32(hash.get(), NFTNL_EXPR_HASH_SEED, 0);
                add(rule, std::move(hash));
        } else {
                auto numgen = make_expr("numgen");
                nftnl_expr_set_u32(numgen.get(), NFTNL_EXPR_NG_DREG, NFT_REG_1);
                nftnl_expr_set_u32(numgen.get(), NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
                nftnl_expr_set_u32(numgen.get(), NFTNL_EXPR_NG_MODULUS, slot.modulus);
                add(rule, std::move(numgen));
        }
        auto cmp = make_expr("cmp");
        nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
        nftnl_expr_set_data(cmp.get(), NFTNL_EXPR_CMP_DATA, &slot.value, sizeof(slot.value));
        add(rule, std::move(cmp));
}

uint32_t nat_flags(const MasqueradeParams& params) {
        uint32_t flags = 0;
        if (params.allocation == PortAllocation::Random)
                flags |= NF_NAT_RANGE_PROTO_RANDOM;
        else if (params.allocation == PortAllocation::FullyRandom)
                flags |= NF_NAT_RANGE_PROTO_RANDOM_FULLY;
        if (params.ports)
                flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
        return flags;
}

// snat to ADDRESS[:FIRST-LAST] [random|fully-random].
void add_snat(nftnl_rule* rule, Ipv4Address to, const MasqueradeParams& params) {
        const uint32_t address = to.network_order();
        auto imm = make_expr("immediate");
        nftnl_expr_set_u32(imm.get(), NFTNL_EXPR_IMM_DREG, NFT_REG_1);
        nftnl_expr_set_data(imm.get(), NFTNL_EXPR_IMM_DATA, &address, sizeof(address));
        add(rule, std::move(imm));
        auto nat = make_expr("nat");
        nftnl_expr_set_u32(nat.get(), NFTNL_EXPR_NAT_TYPE, NFT_NAT_SNAT);
        nftnl_expr_set_u32(nat.get(), NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
        nftnl_expr_set_u32(nat.get(), NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
        nftnl_expr_set_u32(nat.get(), NFTNL_EXPR_NAT_REG_ADDR_MAX, NFT_REG_1);
        if (params.ports) {
                add_immediate16(rule, NFT_REG_2, params.ports->first);
                add_immediate16(rule, NFT_REG_3, params.ports->last);
                nftnl_expr_set_u32(nat.get(), NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
                nftnl_expr_set_u32(nat.get(), NFTNL_EXPR_NAT_REG_PROTO_MAX, NFT_REG_3);
        }
        nftnl_expr_set_u32(nat.get(), NFTNL_EXPR_NAT_FLAGS,
                           nat_flags(params) | NF_NAT_RANGE_MAP_IPS);
        add(rule, std::move(nat));
}

// masquerade [to :FIRST-LAST] [random|fully-random].
void add_masquerade(nftnl_rule* rule, const MasqueradeParams& params) {
        const uint32_t flags = nat_flags(params);
        auto masq = make_expr("masq");
        if (params.ports) {
                add_immediate16(rule, NFT_REG_1, params.ports->first);
                add_immediate16(rule, NFT_REG_2, params.ports->last);
                nftnl_expr_set_u32(masq.get(), NFTNL_EXPR_MASQ_REG_PROTO_MIN, NFT_REG_1);
                nftnl_expr_set_u32(masq.get(), NFTNL_EXPR_MASQ_REG_PROTO_MAX, NFT_REG_2);
        }
        if (flags != 0)
                nftnl_expr_set_u32(masq.get(), NFTNL_EXPR_MASQ_FLAGS, flags);
        add(rule, std::move(masq));
}

void add_verdict(nftnl_rule* rule, uint32_t verdict) {
        auto imm = make_expr("immediate");
        nftnl_expr_set_u32(imm.get(), NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        nftnl_expr_set_u32(imm.get(), NFTNL_EXPR_IMM_VERDICT, verdict);
        add(rule, std::move(imm));
}

NftnlRulePtr make_rule(const std::string& table, const RulePlan& plan) {
        NftnlRulePtr rule(nftnl_rule_alloc());
        if (!rule)
                throw std::bad_alloc();
        nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, kFamily);
        nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, table.c_str());
        nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, plan.chain.c_str());
        for (const auto& m : plan.matches) {
                if (const auto* i = std::get_if<MatchInputInterface>(&m))
                        add_ifname_match(rule.get(), NFT_META_IIFNAME, i->name);
                else if (const auto* o = std::get_if<MatchOutputInterface>(&m))
                        add_ifname_match(rule.get(), NFT_META_OIFNAME, o->name);
                else if (std::holds_alternative<MatchEstablishedRelated>(m))
                        add_ct_state_match(rule.get(), NF_CT_STATE_BIT(IP_CT_ESTABLISHED) |
                                                               NF_CT_STATE_BIT(IP_CT_RELATED));
                else if (std::holds_alternative<MatchInvalid>(m))
                        add_ct_state_match(rule.get(), NF_CT_STATE_INVALID_BIT);
                else if (const auto* s = std::get_if<MatchSourcePrefix>(&m))
                        add_source_prefix_match(rule.get(), s->prefix);
                else if (const auto* p = std::get_if<MatchProtocol>(&m))
                        add_protocol_match(rule.get(), p->protocol);
                else if (std::holds_alternative<MatchTcpSyn>(m))
                        add_tcp_syn_match(rule.get());
                else if (const auto* slot = std::get_if<MatchPoolSlot>(&m))
                        add_pool_slot_match(rule.get(), *slot);
        }
        add(rule.get(), make_expr("counter"));
        const std::string comment = rule_comment(plan.role);
        std::unique_ptr<nftnl_udata_buf, FreeWith<nftnl_udata_buf_free>> udata(
                nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
        if (!udata || !nftnl_udata_put_strz(udata.get(), NFTNL_UDATA_RULE_COMMENT, comment.c_str()))
                throw std::bad_alloc();
        nftnl_rule_set_data(rule.get(), NFTNL_RULE_USERDATA, nftnl_udata_buf_data(udata.get()),
                            nftnl_udata_buf_len(udata.get()));
        switch (plan.action) {
        case RuleAction::Accept:
                add_verdict(rule.get(), NF_ACCEPT);
                break;
        case RuleAction::Drop:
                add_verdict(rule.get(), NF_DROP);
                break;
        case RuleAction::Masquerade:
                add_masquerade(rule.get(), plan.masquerade);
                break;
        case RuleAction::ClampMss:
                add_mss_clamp(rule.get(), plan.mss);
                break;
        case RuleAction::Snat:
                add_snat(rule.get(), plan.snat_to, plan.masquerade);
                break;
        case RuleAction::FlowOffload: {
                auto flow = make_expr("flow_offload");
                nftnl_expr_set_str(flow.get(), NFTNL_EXPR_FLOW_TABLE_NAME, "ft");
                add(rule.get(), std::move(flow));
                break;
        }
        }
        return rule;
}

using NftnlFlowtablePtr = std::unique_ptr<nftnl_flowtable, FreeWith<nftnl_flowtable_free>>;

NftnlFlowtablePtr make_flowtable(const std::string& table, const FlowtablePlan& plan) {
        NftnlFlowtablePtr f(nftnl_flowtable_alloc());
        if (!f)
                throw std::bad_alloc();
        nftnl_flowtable_set_u32(f.get(), NFTNL_FLOWTABLE_FAMILY, kFamily);
        nftnl_flowtable_set_str(f.get(), NFTNL_FLOWTABLE_TABLE, table.c_str());
        nftnl_flowtable_set_str(f.get(), NFTNL_FLOWTABLE_NAME, plan.name.c_str());
        nftnl_flowtable_set_u32(f.get(), NFTNL_FLOWTABLE_HOOKNUM, NF_NETDEV_INGRESS);
        nftnl_flowtable_set_s32(f.get(), NFTNL_FLOWTABLE_PRIO, plan.priority);
        std::vector<const char*> devices;
        for (const auto& d : plan.devices)
                devices.push_back(d.c_str());
        devices.push_back(nullptr);
        nftnl_flowtable_set_array(f.get(), NFTNL_FLOWTABLE_DEVICES, devices.data());
        return f;
}

NftnlTablePtr make_table(const std::string& name) {
        NftnlTablePtr t(nftnl_table_alloc());
        if (!t)
                throw std::bad_alloc();
        nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, kFamily);
        nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
        return t;
}

NftnlChainPtr make_chain(const std::string& table, const ChainPlan& plan) {
        NftnlChainPtr c(nftnl_chain_alloc());
        if (!c)
                throw std::bad_alloc();
        nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, kFamily);
        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, plan.name.c_str());
        nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, hook_number(plan.hook));
        nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, plan.priority);
        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, chain_type_name(plan.type));
        // Policy accept even with ForwardPolicy=drop: that one drops by a
        // counted last rule, which status shows and the policy could not.
        nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
        return c;
}

// Appends nfnetlink messages to a batch that grows as needed: each message
// is built in a scratch buffer (one message is at most a few hundred bytes;
// nftnl writes without bounds, so the scratch is far larger than any) and
// copied in. mnl_nlmsg_batch's fixed buffer is not used: it needs room for a
// whole message past its limit, and a ruleset's size depends on the
// configuration (250 subnets make hundreds of rules).
class BatchWriter {
public:
        BatchWriter(NftBatch& out, uint32_t first_seq) : out_(out), seq_(first_seq) {
                out_.bytes.clear();
                append(nftnl_batch_begin(scratch_.data(), seq_++));
        }
        BatchWriter(const BatchWriter&) = delete;
        BatchWriter& operator=(const BatchWriter&) = delete;
        ~BatchWriter() = default;

        template <typename BuildPayload>
        void message(uint16_t type, uint16_t flags, std::string description, BuildPayload build) {
                const uint32_t seq = seq_++;
                auto* nlh = nftnl_nlmsg_build_hdr(scratch_.data(), type, kFamily,
                                                  static_cast<uint16_t>(flags | NLM_F_ACK), seq);
                build(nlh);
                append(nlh);
                out_.acked.push_back(seq);
                out_.descriptions[seq] = std::move(description);
        }

        void finish() { append(nftnl_batch_end(scratch_.data(), seq_++)); }

private:
        void append(const nlmsghdr* nlh) {
                if (nlh->nlmsg_len > scratch_.size())
                        throw std::length_error("nftables message exceeds its buffer");
                const auto* bytes = reinterpret_cast<const char*>(nlh);
                out_.bytes.insert(out_.bytes.end(), bytes, bytes + MNL_ALIGN(nlh->nlmsg_len));
        }

        NftBatch& out_;
        uint32_t seq_;
        std::array<char, kMessageBufferSize> scratch_{};
};

int render_expr(nftnl_expr* e, void* data) {
        auto* out = static_cast<std::vector<std::string>*>(data);
        const std::string name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
        // Counter values change with traffic; their presence is what counts.
        if (name == "counter") {
                out->push_back(name);
                return MNL_CB_OK;
        }
        std::array<char, 512> buf{};
        nftnl_expr_snprintf(buf.data(), buf.size(), e, NFTNL_OUTPUT_DEFAULT, 0);
        std::string text = name + " " + buf.data();
        while (!text.empty() && text.back() == ' ')
                text.pop_back();
        out->push_back(std::move(text));
        return MNL_CB_OK;
}

int read_counter(nftnl_expr* e, void* data) {
        auto* rule = static_cast<KernelRule*>(data);
        if (std::strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0) {
                rule->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
                rule->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
        }
        return MNL_CB_OK;
}

// libnftnl's getters return null for an attribute the message did not
// carry; a std::string made from null is undefined behaviour (a crash in
// strlen). The kernel always sends a chain's table and name, and a base
// chain's type, but the read-back trusts no message to: an absent one
// reads as empty, which compare_ruleset() then reports as a difference.
std::string text_of(const char* attribute) {
        return attribute != nullptr ? std::string(attribute) : std::string();
}

std::string read_comment(const nftnl_rule* r) {
        if (!nftnl_rule_is_set(r, NFTNL_RULE_USERDATA))
                return {};
        uint32_t len = 0;
        const void* data = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
        // nftnl_udata_parse() checks that each TLV starts inside the data,
        // not that its value ends there: a comment whose length runs past
        // the end (any program may write natd's table) would be read past
        // it. The end goes with the search, and such a TLV ends it.
        struct Search {
                const char* end;
                std::string comment;
        } search{static_cast<const char*>(data) + len, {}};
        nftnl_udata_parse(
                data, len,
                [](const nftnl_udata* attr, void* out) {
                        auto* s = static_cast<Search*>(out);
                        const auto* text = static_cast<const char*>(nftnl_udata_get(attr));
                        const uint32_t size = nftnl_udata_len(attr);
                        if (text > s->end || size > static_cast<size_t>(s->end - text))
                                return -1;
                        if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT)
                                s->comment.assign(text, strnlen(text, size));
                        return 0;
                },
                &search);
        return search.comment;
}

// "[ meta load iifname => reg 1 ][ cmp eq ... ]", as libnftnl prints rules.
std::string bracketed(const std::vector<std::string>& expressions) {
        std::string out;
        for (const auto& e : expressions)
                out += "[ " + e + " ]";
        return out;
}

Status replace_ruleset_unguarded(NetlinkSocket& nfnl, const RulesetPlan& plan);
Status delete_ruleset_unguarded(NetlinkSocket& nfnl, const std::string& table);
Result<KernelRuleset> read_ruleset_unguarded(NetlinkSocket& nfnl, const std::string& table);

// The exception boundary of this file: libnftnl allocation failures and an
// overfull batch throw while objects are built; callers get an Error.
template <typename F>
auto without_exceptions(std::string_view what, F&& body) -> decltype(body()) {
        try {
                return body();
        } catch (const std::exception& e) {
                return Error{"Could not " + std::string(what) + ": " + e.what()};
        }
}

}  // namespace

std::string rule_comment(RuleRole role) {
        return std::string("natd: ") + rule_role_name(role);
}

NftBatch build_replace_batch(const RulesetPlan& plan, uint32_t first_seq) {
        NftBatch batch;
        BatchWriter w(batch, first_seq);
        auto table = make_table(plan.table);
        // Creating the table first makes the delete valid when it is absent.
        w.message(NFT_MSG_NEWTABLE, NLM_F_CREATE, "add table ip " + plan.table,
                  [&](nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, table.get()); });
        w.message(NFT_MSG_DELTABLE, 0, "delete table ip " + plan.table,
                  [&](nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, table.get()); });
        w.message(NFT_MSG_NEWTABLE, NLM_F_CREATE, "add table ip " + plan.table,
                  [&](nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, table.get()); });
        for (const auto& c : plan.chains) {
                auto chain = make_chain(plan.table, c);
                w.message(
                        NFT_MSG_NEWCHAIN, NLM_F_CREATE, "add chain ip " + plan.table + " " + c.name,
                        [&](nlmsghdr* nlh) { nftnl_chain_nlmsg_build_payload(nlh, chain.get()); });
        }
        if (plan.flowtable) {
                auto f = make_flowtable(plan.table, *plan.flowtable);
                w.message(
                        NFT_MSG_NEWFLOWTABLE, NLM_F_CREATE,
                        "add flowtable ip " + plan.table + " " + plan.flowtable->name,
                        [&](nlmsghdr* nlh) { nftnl_flowtable_nlmsg_build_payload(nlh, f.get()); });
        }
        for (const auto& r : plan.rules) {
                auto rule = make_rule(plan.table, r);
                w.message(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
                          "add rule ip " + plan.table + " " + r.chain + " " + describe(r),
                          [&](nlmsghdr* nlh) { nftnl_rule_nlmsg_build_payload(nlh, rule.get()); });
        }
        w.finish();
        return batch;
}

Status probe_flowtable_support(NetlinkSocket& nfnl) {
        return without_exceptions("probe nftables flowtables", [&]() -> Status {
                const std::string probe = "natd-probe";
                NftBatch batch;
                {
                        BatchWriter w(batch, nfnl.next_seq(5));
                        auto t = make_table(probe);
                        auto f = make_flowtable(probe, FlowtablePlan{"ft", {}, 0});
                        w.message(NFT_MSG_NEWTABLE, NLM_F_CREATE, "add table ip " + probe,
                                  [&](nlmsghdr* nlh) {
                                          nftnl_table_nlmsg_build_payload(nlh, t.get());
                                  });
                        w.message(NFT_MSG_NEWFLOWTABLE, NLM_F_CREATE,
                                  "add flowtable ip " + probe + " ft", [&](nlmsghdr* nlh) {
                                          nftnl_flowtable_nlmsg_build_payload(nlh, f.get());
                                  });
                        w.message(NFT_MSG_DELTABLE, 0, "delete table ip " + probe,
                                  [&](nlmsghdr* nlh) {
                                          nftnl_table_nlmsg_build_payload(nlh, t.get());
                                  });
                        w.finish();
                }
                return nfnl.transact(batch.bytes.data(), batch.bytes.size(), batch.acked,
                                     [&](uint32_t seq) { return batch.descriptions[seq]; });
        });
}

std::vector<std::string> render_rule(const RulePlan& rule) {
        auto r = make_rule(kTableName, rule);
        std::vector<std::string> out;
        nftnl_expr_foreach(r.get(), render_expr, &out);
        return out;
}

Status replace_ruleset(NetlinkSocket& nfnl, const RulesetPlan& plan) {
        return without_exceptions("replace table ip " + plan.table,
                                  [&] { return replace_ruleset_unguarded(nfnl, plan); });
}

Status delete_ruleset(NetlinkSocket& nfnl, const std::string& table) {
        return without_exceptions("delete table ip " + table,
                                  [&] { return delete_ruleset_unguarded(nfnl, table); });
}

bool parse_table_message(const nlmsghdr* reply, KernelRuleset& kernel) {
        NftnlTablePtr parsed(nftnl_table_alloc());
        if (!parsed || nftnl_table_nlmsg_parse(reply, parsed.get()) < 0)
                return false;
        kernel.present = true;
        if (nftnl_table_is_set(parsed.get(), NFTNL_TABLE_FLAGS))
                kernel.flags = nftnl_table_get_u32(parsed.get(), NFTNL_TABLE_FLAGS);
        return true;
}

bool parse_chain_message(const nlmsghdr* reply, const std::string& table, KernelRuleset& kernel) {
        NftnlChainPtr c(nftnl_chain_alloc());
        if (!c || nftnl_chain_nlmsg_parse(reply, c.get()) < 0)
                return false;
        if (table != text_of(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE)))
                return true;
        KernelChain kc;
        kc.name = text_of(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME));
        kc.base = nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM);
        if (kc.base) {
                kc.hook = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM);
                kc.priority = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
                kc.type = text_of(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE));
                kc.policy = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY);
        }
        kernel.chains.push_back(std::move(kc));
        return true;
}

bool parse_rule_message(const nlmsghdr* reply, const std::string& table, KernelRuleset& kernel) {
        NftnlRulePtr r(nftnl_rule_alloc());
        if (!r || nftnl_rule_nlmsg_parse(reply, r.get()) < 0)
                return false;
        if (table != text_of(nftnl_rule_get_str(r.get(), NFTNL_RULE_TABLE)))
                return true;
        KernelRule kr;
        kr.chain = text_of(nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN));
        kr.handle = nftnl_rule_get_u64(r.get(), NFTNL_RULE_HANDLE);
        kr.comment = read_comment(r.get());
        nftnl_expr_foreach(r.get(), render_expr, &kr.expressions);
        nftnl_expr_foreach(r.get(), read_counter, &kr);
        kernel.rules.push_back(std::move(kr));
        return true;
}

Result<KernelRuleset> read_ruleset(NetlinkSocket& nfnl, const std::string& table) {
        return without_exceptions("read table ip " + table,
                                  [&] { return read_ruleset_unguarded(nfnl, table); });
}

namespace {

Status replace_ruleset_unguarded(NetlinkSocket& nfnl, const RulesetPlan& plan) {
        // begin + 3 table messages + chains + rules + end
        const auto messages = static_cast<uint32_t>(5 + plan.chains.size() + plan.rules.size() +
                                                    (plan.flowtable ? 1 : 0));
        const NftBatch batch = build_replace_batch(plan, nfnl.next_seq(messages));
        return nfnl.transact(
                batch.bytes.data(), batch.bytes.size(), batch.acked, [&](uint32_t seq) {
                        auto it = batch.descriptions.find(seq);
                        return it == batch.descriptions.end() ? std::string("apply nftables batch")
                                                              : it->second;
                });
}

Status delete_ruleset_unguarded(NetlinkSocket& nfnl, const std::string& table) {
        NftBatch batch;
        {
                BatchWriter w(batch, nfnl.next_seq(4));
                auto t = make_table(table);
                // Creating it first makes the delete valid when it is absent.
                w.message(NFT_MSG_NEWTABLE, NLM_F_CREATE, "add table ip " + table,
                          [&](nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, t.get()); });
                w.message(NFT_MSG_DELTABLE, 0, "delete table ip " + table,
                          [&](nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, t.get()); });
                w.finish();
        }
        return nfnl.transact(batch.bytes.data(), batch.bytes.size(), batch.acked,
                             [&](uint32_t seq) { return batch.descriptions[seq]; });
}

Result<KernelRuleset> read_ruleset_unguarded(NetlinkSocket& nfnl, const std::string& table) {
        KernelRuleset kernel;
        std::array<char, kRequestBufferSize> buf{};

        auto t = make_table(table);
        auto* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETTABLE, kFamily, NLM_F_ACK,
                                          nfnl.next_seq());
        nftnl_table_nlmsg_build_payload(nlh, t.get());
        Status s = nfnl.request(nlh, [&](const nlmsghdr* reply) {
                return parse_table_message(reply, kernel) ? MNL_CB_OK : MNL_CB_ERROR;
        });
        if (!s.ok()) {
                if (s.failure().is(ENOENT))
                        return kernel;  // absent: a fact, not a failure
                return s.failure().wrapped("Could not read table ip " + table);
        }

        auto chain_filter = NftnlChainPtr(nftnl_chain_alloc());
        nftnl_chain_set_str(chain_filter.get(), NFTNL_CHAIN_TABLE, table.c_str());
        nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETCHAIN, kFamily, NLM_F_DUMP,
                                    nfnl.next_seq());
        nftnl_chain_nlmsg_build_payload(nlh, chain_filter.get());
        s = nfnl.request(nlh, [&](const nlmsghdr* reply) {
                return parse_chain_message(reply, table, kernel) ? MNL_CB_OK : MNL_CB_ERROR;
        });
        if (!s.ok())
                return s.failure().wrapped("Could not list chains of table ip " + table);

        NftnlRulePtr rule_filter(nftnl_rule_alloc());
        nftnl_rule_set_str(rule_filter.get(), NFTNL_RULE_TABLE, table.c_str());
        nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETRULE, kFamily, NLM_F_DUMP,
                                    nfnl.next_seq());
        nftnl_rule_nlmsg_build_payload(nlh, rule_filter.get());
        s = nfnl.request(nlh, [&](const nlmsghdr* reply) {
                return parse_rule_message(reply, table, kernel) ? MNL_CB_OK : MNL_CB_ERROR;
        });
        if (!s.ok())
                return s.failure().wrapped("Could not list rules of table ip " + table);
        return kernel;
}

}  // namespace

std::vector<std::string> compare_ruleset(const RulesetPlan& plan, const KernelRuleset& kernel) {
        std::vector<std::string> diffs;
        if (!kernel.present) {
                diffs.push_back("table ip " + plan.table + " is missing");
                return diffs;
        }
        // A dormant table keeps its chains and rules but sees no packet.
        if ((kernel.flags & NFT_TABLE_F_DORMANT) != 0)
                diffs.push_back("table ip " + plan.table + " is dormant");
        for (const auto& want : plan.chains) {
                const KernelChain* have = nullptr;
                for (const auto& c : kernel.chains)
                        if (c.name == want.name)
                                have = &c;
                const std::string where = "chain " + want.name;
                if (have == nullptr) {
                        diffs.push_back(where + " is missing");
                        continue;
                }
                if (!have->base || have->hook != hook_number(want.hook) ||
                    have->priority != want.priority || have->type != chain_type_name(want.type) ||
                    have->policy != NF_ACCEPT)
                        diffs.push_back(where + " has a different type, hook, priority or policy");

                std::vector<const RulePlan*> wanted;
                for (const auto& r : plan.rules)
                        if (r.chain == want.name)
                                wanted.push_back(&r);
                std::vector<const KernelRule*> present;
                for (const auto& r : kernel.rules)
                        if (r.chain == want.name)
                                present.push_back(&r);
                if (wanted.size() != present.size())
                        diffs.push_back(where + " has " + std::to_string(present.size()) +
                                        " rules, expected " + std::to_string(wanted.size()));
                for (size_t i = 0; i < std::min(wanted.size(), present.size()); ++i) {
                        const auto expected = render_rule(*wanted[i]);
                        if (present[i]->comment != rule_comment(wanted[i]->role))
                                diffs.push_back(where + " rule " + std::to_string(i + 1) +
                                                " has comment \"" + present[i]->comment +
                                                "\", expected \"" + rule_comment(wanted[i]->role) +
                                                "\"");
                        if (expected != present[i]->expressions)
                                diffs.push_back(where + " rule " + std::to_string(i + 1) + " (" +
                                                describe(*wanted[i]) + ") differs: expected " +
                                                bracketed(expected) + ", found " +
                                                bracketed(present[i]->expressions));
                }
        }
        for (const auto& c : kernel.chains) {
                bool planned = false;
                for (const auto& p : plan.chains)
                        planned = planned || p.name == c.name;
                if (!planned)
                        diffs.push_back("chain " + c.name + " is not natd's");
        }
        return diffs;
}

}  // namespace natd
