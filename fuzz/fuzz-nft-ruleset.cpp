// The nftables read-back (lib/nft-ruleset.hpp): the replies to
// read_ruleset()'s GETTABLE, GETCHAIN and GETRULE requests, read into
// KernelRuleset by parse_table_message/parse_chain_message/
// parse_rule_message after libnftnl parsed them.
//
// libnftnl trusts the kernel's nf_tables ABI: an attribute of the wrong
// type or size makes it print "nf_tables kernel ABI is broken" and exit()
// (its abi_breakage()), by design; raw bytes would find only that. So each
// fuzzed message is decoded leniently here, its attributes (present or not,
// any string, any number, any comment bytes) set on a libnftnl object, and
// the message natd parses is rebuilt from it by libnftnl: well-formed by
// construction, as the kernel's are, with the fuzzer choosing everything
// natd itself reads. A rule's expressions are those of one of natd's own
// rules (chosen by the fuzzed handle), as libnftnl builds them: their
// parsing is libnftnl's. The table natd reads is "natd", as in the seeds
// captured from the kernel.
#include <arpa/inet.h>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <endian.h>
#include <optional>
#include <string>
#include <vector>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "fuzz-input.hpp"
#include "handles.hpp"
#include "netlink-attributes.hpp"
#include "nft-ruleset.hpp"
#include "ruleset-plan.hpp"

namespace {

constexpr size_t kMessageBufferSize = size_t{64} * 1024;

std::string attr_text(const nlattr* a) {
        const auto* s = static_cast<const char*>(mnl_attr_get_payload(a));
        return {s, strnlen(s, mnl_attr_get_payload_len(a))};
}

bool has_u32(const nlattr* a) {
        return mnl_attr_get_payload_len(a) >= sizeof(uint32_t);
}

bool has_u64(const nlattr* a) {
        return mnl_attr_get_payload_len(a) >= sizeof(uint64_t);
}

uint64_t u64_of(const nlattr* a) {
        uint64_t v = 0;
        std::memcpy(&v, mnl_attr_get_payload(a), sizeof(v));
        return v;
}

// The NEWRULE messages of natd's own replace batch: the expressions the
// fuzzed rules carry.
const std::vector<std::vector<char>>& natd_rule_messages() {
        static const std::vector<std::vector<char>> messages = [] {
                natd::NatRulesetInput input;
                input.public_ifname = "ens5";
                input.private_ifname = "ens6";
                input.source_cidrs = {natd::Ipv4Cidr::parse("10.0.1.0/24").value(),
                                      natd::Ipv4Cidr::parse("10.0.2.0/23").value()};
                input.clamp_mss = {natd::ClampMss::Mode::Auto, 0};
                input.port_range = natd::PortRange{1024, 65535};
                const auto batch = natd::build_replace_batch(natd::make_nat_ruleset(input), 1);
                std::vector<std::vector<char>> out;
                int left = static_cast<int>(batch.bytes.size());
                for (const auto* nlh = reinterpret_cast<const nlmsghdr*>(batch.bytes.data());
                     mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
                        if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWRULE)
                                continue;
                        const auto* bytes = reinterpret_cast<const char*>(nlh);
                        out.emplace_back(bytes, bytes + nlh->nlmsg_len);
                }
                return out;
        }();
        return messages;
}

nlmsghdr* header(std::vector<char>& buf, uint16_t type) {
        return nftnl_nlmsg_build_hdr(buf.data(), type, NFPROTO_IPV4, NLM_F_MULTI, 1);
}

void table_from(const nlmsghdr* fuzzed, natd::KernelRuleset& kernel) {
        natd::NftnlTablePtr t(nftnl_table_alloc());
        natd::for_each_attribute(fuzzed, sizeof(nfgenmsg), [&](const nlattr* a) {
                if (mnl_attr_get_type(a) == NFTA_TABLE_NAME)
                        nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, attr_text(a).c_str());
                else if (mnl_attr_get_type(a) == NFTA_TABLE_FLAGS && has_u32(a))
                        nftnl_table_set_u32(t.get(), NFTNL_TABLE_FLAGS, ntohl(mnl_attr_get_u32(a)));
        });
        std::vector<char> buf(kMessageBufferSize);
        auto* nlh = header(buf, NFT_MSG_NEWTABLE);
        nftnl_table_nlmsg_build_payload(nlh, t.get());
        (void)natd::parse_table_message(nlh, kernel);
}

void chain_from(const nlmsghdr* fuzzed, const std::string& table, natd::KernelRuleset& kernel) {
        natd::NftnlChainPtr c(nftnl_chain_alloc());
        natd::for_each_attribute(fuzzed, sizeof(nfgenmsg), [&](const nlattr* a) {
                switch (mnl_attr_get_type(a)) {
                case NFTA_CHAIN_TABLE:
                        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, attr_text(a).c_str());
                        break;
                case NFTA_CHAIN_NAME:
                        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, attr_text(a).c_str());
                        break;
                case NFTA_CHAIN_TYPE:
                        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, attr_text(a).c_str());
                        break;
                case NFTA_CHAIN_POLICY:
                        if (has_u32(a))
                                nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY,
                                                    ntohl(mnl_attr_get_u32(a)));
                        break;
                case NFTA_CHAIN_HOOK:
                        natd::for_each_nested(a, [&](const nlattr* h) {
                                if (mnl_attr_get_type(h) == NFTA_HOOK_HOOKNUM && has_u32(h))
                                        nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM,
                                                            ntohl(mnl_attr_get_u32(h)));
                                else if (mnl_attr_get_type(h) == NFTA_HOOK_PRIORITY && has_u32(h))
                                        nftnl_chain_set_s32(
                                                c.get(), NFTNL_CHAIN_PRIO,
                                                static_cast<int32_t>(ntohl(mnl_attr_get_u32(h))));
                        });
                        break;
                default:
                        break;
                }
        });
        std::vector<char> buf(kMessageBufferSize);
        auto* nlh = header(buf, NFT_MSG_NEWCHAIN);
        nftnl_chain_nlmsg_build_payload(nlh, c.get());
        (void)natd::parse_chain_message(nlh, table, kernel);
}

void rule_from(const nlmsghdr* fuzzed, const std::string& table, natd::KernelRuleset& kernel) {
        // First pass: the handle, which picks the expressions.
        std::optional<uint64_t> handle;
        natd::for_each_attribute(fuzzed, sizeof(nfgenmsg), [&](const nlattr* a) {
                if (mnl_attr_get_type(a) == NFTA_RULE_HANDLE && has_u64(a))
                        handle = u64_of(a);
        });
        const auto& templates = natd_rule_messages();
        const auto& message = templates[handle.value_or(0) % templates.size()];
        natd::NftnlRulePtr r(nftnl_rule_alloc());
        if (nftnl_rule_nlmsg_parse(reinterpret_cast<const nlmsghdr*>(message.data()), r.get()) < 0)
                return;
        // natd's batch names its table and chain and carries its comment:
        // only what the fuzzed message has stays.
        nftnl_rule_unset(r.get(), NFTNL_RULE_TABLE);
        nftnl_rule_unset(r.get(), NFTNL_RULE_CHAIN);
        nftnl_rule_unset(r.get(), NFTNL_RULE_USERDATA);
        if (handle)
                nftnl_rule_set_u64(r.get(), NFTNL_RULE_HANDLE, be64toh(*handle));
        natd::for_each_attribute(fuzzed, sizeof(nfgenmsg), [&](const nlattr* a) {
                switch (mnl_attr_get_type(a)) {
                case NFTA_RULE_TABLE:
                        nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, attr_text(a).c_str());
                        break;
                case NFTA_RULE_CHAIN:
                        nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, attr_text(a).c_str());
                        break;
                case NFTA_RULE_USERDATA:
                        // Any bytes: nft or another program may have written
                        // a rule in natd's table with a comment of its own.
                        nftnl_rule_set_data(r.get(), NFTNL_RULE_USERDATA, mnl_attr_get_payload(a),
                                            mnl_attr_get_payload_len(a));
                        break;
                default:
                        break;
                }
        });
        std::vector<char> buf(kMessageBufferSize);
        auto* nlh = header(buf, NFT_MSG_NEWRULE);
        nftnl_rule_nlmsg_build_payload(nlh, r.get());
        (void)natd::parse_rule_message(nlh, table, kernel);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
        const std::string table = "natd";
        natd::KernelRuleset kernel;
        natd::fuzz::for_each_netlink_message(data, size, [&](const nlmsghdr* nlh) {
                if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nfgenmsg)))
                        return;
                // The kernel answers each request with messages of its type.
                switch (nlh->nlmsg_type & 0xff) {
                case NFT_MSG_NEWTABLE:
                        table_from(nlh, kernel);
                        break;
                case NFT_MSG_NEWCHAIN:
                        chain_from(nlh, table, kernel);
                        break;
                case NFT_MSG_NEWRULE:
                        rule_from(nlh, table, kernel);
                        break;
                default:
                        break;
                }
        });
        return 0;
}
