#include <algorithm>
#include <array>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "handles.hpp"
#include "nft-ruleset.hpp"

namespace {

uint16_t nft_type(uint16_t msg) {
        return static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg);
}

// The fixtures come from the real nftables, not from natd: in a new network
// namespace (Debian 12: nftables 1.0.6, libnftnl 1.2.4; kernel 6.18), `nft
// --debug=netlink -f natd.nft` applied make_nat_ruleset(nat_input()) written
// in nft's syntax (each rule one line in the file):
//
//   table ip natd {
//     chain postrouting {
//       type nat hook postrouting priority srcnat; policy accept;
//       iifname "ens6" oifname "ens5" ip saddr 10.0.2.0/24 counter masquerade
//           comment "natd: masquerade"
//       iifname "ens6" oifname "ens5" ip saddr 10.0.1.0/24 counter masquerade
//           comment "natd: masquerade"
//     }
//     chain forward {
//       type filter hook forward priority filter; policy accept;
//       iifname "ens6" ct state invalid counter drop comment "natd: drop-invalid"
//       iifname "ens5" ct state invalid counter drop comment "natd: drop-invalid"
//       iifname "ens6" oifname "ens5" ip saddr 10.0.2.0/24 counter accept
//           comment "natd: forward-out"
//       iifname "ens6" oifname "ens5" ip saddr 10.0.1.0/24 counter accept
//           comment "natd: forward-out"
//       iifname "ens6" oifname "ens5" counter drop comment "natd: drop-out"
//       iifname "ens5" oifname "ens6" ct state established,related counter accept
//           comment "natd: return-in"
//       iifname "ens5" oifname "ens6" counter drop comment "natd: drop-in"
//       iifname "ens5" oifname "ens5" counter drop comment "natd: drop-hairpin"
//       counter drop comment "natd: drop-other"
//     }
//   }
//
// kKernelRules is what `nft --debug=netlink list table ip natd` then read
// back from the kernel, verbatim; each header line ends in the rule's handle
// and the handle it follows. What nft printed of the rules it sent was the
// same but for those numbers.
constexpr const char* kKernelRules = R"(ip natd postrouting 3
  [ meta load iifname => reg 1 ]
  [ cmp eq reg 1 0x36736e65 0x00000000 0x00000000 0x00000000 ]
  [ meta load oifname => reg 1 ]
  [ cmp eq reg 1 0x35736e65 0x00000000 0x00000000 0x00000000 ]
  [ payload load 3b @ network header + 12 => reg 1 ]
  [ cmp eq reg 1 0x0002000a ]
  [ counter pkts 0 bytes 0 ]
  [ masq ]
  userdata = { \x00\x11natd: masquerade\x00 }
ip natd postrouting 4 3
  [ meta load iifname => reg 1 ]
  [ cmp eq reg 1 0x36736e65 0x00000000 0x00000000 0x00000000 ]
  [ meta load oifname => reg 1 ]
  [ cmp eq reg 1 0x35736e65 0x00000000 0x00000000 0x00000000 ]
  [ payload load 3b @ network header + 12 => reg 1 ]
  [ cmp eq reg 1 0x0001000a ]
  [ counter pkts 0 bytes 0 ]
  [ masq ]
  userdata = { \x00\x11natd: masquerade\x00 }
ip natd forward 5
  [ meta load iifname => reg 1 ]
  [ cmp eq reg 1 0x36736e65 0x00000000 0x00000000 0x00000000 ]
  [ ct load state => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0x00000001 ) ^ 0x00000000 ]
  [ cmp neq reg 1 0x00000000 ]
  [ counter pkts 0 bytes 0 ]
  [ immediate reg 0 drop ]
  userdata = { \x00\x13natd: drop-invalid\x00 }
ip natd forward 6 5
  [ meta load iifname => reg 1 ]
  [ cmp eq reg 1 0x35736e65 0x00000000 0x00000000 0x00000000 ]
  [ ct load state => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0x00000001 ) ^ 0x00000000 ]
  [ cmp neq reg 1 0x00000000 ]
  [ counter pkts 0 bytes 0 ]
  [ immediate reg 0 drop ]
  userdata = { \x00\x13natd: drop-invalid\x00 }
ip natd forward 7 6
  [ meta load iifname => reg 1 ]
  [ cmp eq reg 1 0x36736e65 0x00000000 0x00000000 0x00000000 ]
  [ meta load oifname => reg 1 ]
  [ cmp eq reg 1 0x35736e65 0x00000000 0x00000000 0x00000000 ]
  [ payload load 3b @ network header + 12 => reg 1 ]
  [ cmp eq reg 1 0x0002000a ]
  [ counter pkts 0 bytes 0 ]
  [ immediate reg 0 accept ]
  userdata = { \x00\x12natd: forward-out\x00 }
ip natd forward 8 7
  [ meta load iifname => reg 1 ]
  [ cmp eq reg 1 0x36736e65 0x00000000 0x00000000 0x00000000 ]
  [ meta load oifname => reg 1 ]
  [ cmp eq reg 1 0x35736e65 0x00000000 0x00000000 0x00000000 ]
  [ payload load 3b @ network header + 12 => reg 1 ]
  [ cmp eq reg 1 0x0001000a ]
  [ counter pkts 0 bytes 0 ]
  [ immediate reg 0 accept ]
  userdata = { \x00\x12natd: forward-out\x00 }
ip natd forward 9 8
  [ meta load iifname => reg 1 ]
  [ cmp eq reg 1 0x36736e65 0x00000000 0x00000000 0x00000000 ]
  [ meta load oifname => reg 1 ]
  [ cmp eq reg 1 0x35736e65 0x00000000 0x00000000 0x00000000 ]
  [ counter pkts 0 bytes 0 ]
  [ immediate reg 0 drop ]
  userdata = { \x00\x0fnatd: drop-out\x00 }
ip natd forward 10 9
  [ meta load iifname => reg 1 ]
  [ cmp eq reg 1 0x35736e65 0x00000000 0x00000000 0x00000000 ]
  [ meta load oifname => reg 1 ]
  [ cmp eq reg 1 0x36736e65 0x00000000 0x00000000 0x00000000 ]
  [ ct load state => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000 ]
  [ cmp neq reg 1 0x00000000 ]
  [ counter pkts 0 bytes 0 ]
  [ immediate reg 0 accept ]
  userdata = { \x00\x10natd: return-in\x00 }
ip natd forward 11 10
  [ meta load iifname => reg 1 ]
  [ cmp eq reg 1 0x35736e65 0x00000000 0x00000000 0x00000000 ]
  [ meta load oifname => reg 1 ]
  [ cmp eq reg 1 0x36736e65 0x00000000 0x00000000 0x00000000 ]
  [ counter pkts 0 bytes 0 ]
  [ immediate reg 0 drop ]
  userdata = { \x00\x0enatd: drop-in\x00 }
ip natd forward 12 11
  [ meta load iifname => reg 1 ]
  [ cmp eq reg 1 0x35736e65 0x00000000 0x00000000 0x00000000 ]
  [ meta load oifname => reg 1 ]
  [ cmp eq reg 1 0x35736e65 0x00000000 0x00000000 0x00000000 ]
  [ counter pkts 0 bytes 0 ]
  [ immediate reg 0 drop ]
  userdata = { \x00\x13natd: drop-hairpin\x00 }
ip natd forward 13 12
  [ counter pkts 0 bytes 0 ]
  [ immediate reg 0 drop ]
  userdata = { \x00\x11natd: drop-other\x00 }
)";

// `nft --debug=netlink add rule ip t c ip saddr PREFIX counter accept` for
// prefixes that are not whole bytes, a host and everything: the
// expressions before the counter.
const std::vector<std::pair<const char*, std::vector<std::string>>> kPrefixEncodings{
        {"10.0.16.0/20",
         {"payload load 4b @ network header + 12 => reg 1",
          "bitwise reg 1 = ( reg 1 & 0x00f0ffff ) ^ 0x00000000", "cmp eq reg 1 0x0010000a"}},
        {"10.0.1.7/32",
         {"payload load 4b @ network header + 12 => reg 1", "cmp eq reg 1 0x0701000a"}},
        {"0.0.0.0/0",
         {"payload load 4b @ network header + 12 => reg 1",
          "bitwise reg 1 = ( reg 1 & 0x00000000 ) ^ 0x00000000", "cmp eq reg 1 0x00000000"}},
        {"10.0.0.0/8",
         {"payload load 1b @ network header + 12 => reg 1", "cmp eq reg 1 0x0000000a"}},
};

natd::Ipv4Cidr cidr(const char* text) {
        return natd::Ipv4Cidr::parse(text).value();
}

// The ruleset of the fixtures: public ens5, private ens6, two source CIDRs.
natd::NatRulesetInput nat_input(natd::ForwardPolicy policy = natd::ForwardPolicy::Drop) {
        natd::NatRulesetInput input;
        input.public_ifname = "ens5";
        input.private_ifname = "ens6";
        input.source_cidrs = {cidr("10.0.2.0/24"), cidr("10.0.1.0/24")};
        input.forward_policy = policy;
        return input;
}

// The comment in a rule's printed userdata, "{ \x00\x11natd: masquerade\x00 }":
// NFTNL_UDATA_RULE_COMMENT (type 0), length, the NUL-terminated text.
std::string userdata_comment(const std::string& printed) {
        std::string bytes;
        for (size_t i = printed.find("{ ") + 2; i < printed.rfind(" }"); ++i) {
                if (printed.compare(i, 2, "\\x") == 0) {
                        bytes.push_back(static_cast<char>(
                                std::stoi(printed.substr(i + 2, 2), nullptr, 16)));
                        i += 3;
                } else {
                        bytes.push_back(printed[i]);
                }
        }
        REQUIRE(bytes.size() >= 2);
        REQUIRE(bytes[0] == '\0');  // NFTNL_UDATA_RULE_COMMENT
        const auto len = static_cast<size_t>(static_cast<unsigned char>(bytes[1]));
        REQUIRE(bytes.size() == 2 + len);
        return bytes.substr(2, len - 1);  // without the NUL
}

// kKernelRules as read_ruleset() reports it: expressions without the
// brackets, counters without their values (see KernelRule).
std::vector<natd::KernelRule> kernel_rules(const std::string& listing) {
        std::vector<natd::KernelRule> rules;
        std::istringstream in(listing);
        for (std::string line; std::getline(in, line);) {
                if (line.rfind("ip natd ", 0) == 0) {
                        std::istringstream header(line.substr(8));
                        natd::KernelRule r;
                        header >> r.chain >> r.handle;
                        rules.push_back(r);
                } else if (line.rfind("  [ ", 0) == 0) {
                        std::string e = line.substr(4, line.size() - 6);
                        rules.back().expressions.push_back(e.rfind("counter ", 0) == 0 ? "counter"
                                                                                       : e);
                } else if (line.rfind("  userdata = ", 0) == 0) {
                        rules.back().comment = userdata_comment(line);
                }
        }
        return rules;
}

// kKernelRules as nft prints the rules it sends: no handles.
std::string without_handles(const std::string& listing) {
        std::string out;
        std::istringstream in(listing);
        for (std::string line; std::getline(in, line);) {
                if (line.rfind("ip natd ", 0) == 0)
                        line = line.substr(0, line.find(' ', 8));
                out += line + "\n";
        }
        return out;
}

// What the kernel reports for make_nat_ruleset(nat_input()): the rules
// of kKernelRules; the chains as `nft -j list chains` showed them (hook
// postrouting = NF_INET_POST_ROUTING 4, forward = NF_INET_FORWARD 2, prio
// 100 and 0, policy accept = NF_ACCEPT 1).
natd::KernelRuleset kernel_ens5_ens6() {
        natd::KernelRuleset k;
        k.present = true;
        k.chains = {{"postrouting", true, "nat", 4, 100, 1}, {"forward", true, "filter", 2, 0, 1}};
        k.rules = kernel_rules(kKernelRules);
        return k;
}

}  // namespace

TEST_CASE("Rules render as the kernel reports them, counters without values", "[nft]") {
        const auto plan = natd::make_nat_ruleset(nat_input());
        const auto kernel = kernel_ens5_ens6();
        REQUIRE(kernel.rules.size() == plan.rules.size());
        for (size_t i = 0; i < plan.rules.size(); ++i) {
                INFO("rule " << i + 1 << ": " << natd::describe(plan.rules[i]));
                CHECK(natd::render_rule(plan.rules[i]) == kernel.rules[i].expressions);
        }
        // "ens6" and "ens5" as little-endian words, zero padded to IFNAMSIZ.
        CHECK(kernel.rules[0].expressions.at(1) ==
              "cmp eq reg 1 0x36736e65 0x00000000 0x00000000 0x00000000");
}

TEST_CASE("Source prefixes render as nft encodes them", "[nft]") {
        for (const auto& [prefix, expected] : kPrefixEncodings) {
                INFO(prefix);
                natd::RulePlan rule;
                rule.matches = {natd::MatchSourcePrefix{cidr(prefix)}};
                auto rendered = natd::render_rule(rule);
                REQUIRE(rendered.size() == expected.size() + 2);  // + counter, verdict
                rendered.resize(expected.size());
                CHECK(rendered == expected);
        }
}

// `nft --debug=netlink` for the same rules (nftables 1.0.6):
//   oifname "ens5" tcp flags syn / syn,rst tcp option maxseg size set rt mtu
//   ... tcp option maxseg size set 1360
//   oifname "ens5" meta l4proto tcp masquerade to :1024-65535 fully-random
//   oifname "ens5" masquerade random
TEST_CASE("MSS clamping and masquerade flags render as nft encodes them", "[nft]") {
        const std::vector<std::string> oif_ens5{
                "meta load oifname => reg 1",
                "cmp eq reg 1 0x35736e65 0x00000000 0x00000000 0x00000000"};
        const std::vector<std::string> syn{"meta load l4proto => reg 1", "cmp eq reg 1 0x00000006",
                                           "payload load 1b @ transport header + 13 => reg 1",
                                           "bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000",
                                           "cmp eq reg 1 0x00000002"};
        auto rendered = [](natd::RulePlan rule) {
                auto r = natd::render_rule(rule);
                // The counter sits before the action: compare around it.
                r.erase(std::remove(r.begin(), r.end(), "counter"), r.end());
                return r;
        };
        auto concat = [](std::vector<std::string> a, const std::vector<std::string>& b) {
                a.insert(a.end(), b.begin(), b.end());
                return a;
        };
        natd::RulePlan clamp;
        clamp.matches = {natd::MatchOutputInterface{"ens5"}, natd::MatchTcpSyn{}};
        clamp.action = natd::RuleAction::ClampMss;
        CHECK(rendered(clamp) ==
              concat(concat(oif_ens5, syn),
                     {"rt load tcpmss => reg 1", "byteorder reg 1 = hton(reg 1, 2, 2)",
                      "exthdr write tcpopt reg 1 => 2b @ 2 + 2"}));
        clamp.mss = 1360;
        CHECK(rendered(clamp) ==
              concat(concat(oif_ens5, syn),
                     {"immediate reg 1 0x00005005", "exthdr write tcpopt reg 1 => 2b @ 2 + 2"}));

        natd::RulePlan masq;
        masq.chain = "postrouting";
        masq.action = natd::RuleAction::Masquerade;
        masq.matches = {natd::MatchOutputInterface{"ens5"}, natd::MatchProtocol{6}};
        masq.masquerade = {natd::PortAllocation::FullyRandom, natd::PortRange{1024, 65535}};
        CHECK(rendered(masq) ==
              concat(oif_ens5, {"meta load l4proto => reg 1", "cmp eq reg 1 0x00000006",
                                "immediate reg 1 0x00000004", "immediate reg 2 0x0000ffff",
                                "masq proto_min reg 1 proto_max reg 2 flags 0x12"}));
        masq.matches = {natd::MatchOutputInterface{"ens5"}};
        masq.masquerade = {natd::PortAllocation::Random, std::nullopt};
        CHECK(rendered(masq) == concat(oif_ens5, {"masq flags 0x4"}));
        masq.masquerade = {natd::PortAllocation::Sequential, std::nullopt};
        CHECK(rendered(masq) == concat(oif_ens5, {"masq"}));
}

// `nft --debug=netlink` (nftables 1.0.6) for:
//   oifname "ens5" jhash ip saddr mod 3 seed 0x0 == 1 snat to 203.0.113.11 fully-random
//   oifname "ens5" numgen random mod 2 == 0 snat to 203.0.113.12
//   oifname "ens5" meta l4proto tcp snat to 203.0.113.11:20000-20009 random
TEST_CASE("SNAT pool slots and snat render as nft encodes them", "[nft]") {
        auto rendered = [](natd::RulePlan rule) {
                auto r = natd::render_rule(rule);
                r.erase(std::remove(r.begin(), r.end(), "counter"), r.end());
                r.erase(r.begin(), r.begin() + 2);  // oifname "ens5"
                return r;
        };
        natd::RulePlan snat;
        snat.chain = "postrouting";
        snat.action = natd::RuleAction::Snat;
        snat.snat_to = natd::Ipv4Address::parse("203.0.113.11").value();
        snat.matches = {natd::MatchOutputInterface{"ens5"},
                        natd::MatchPoolSlot{natd::PoolMode::Persistent, 3, 1}};
        snat.masquerade = {natd::PortAllocation::FullyRandom, std::nullopt};
        CHECK(rendered(snat) ==
              std::vector<std::string>{"payload load 4b @ network header + 12 => reg 2",
                                       "hash reg 1 = jhash(reg 2, 4, 0x0) % mod 3",
                                       "cmp eq reg 1 0x00000001", "immediate reg 1 0x0b7100cb",
                                       "nat snat ip addr_min reg 1 addr_max reg 1 flags 0x11"});
        snat.snat_to = natd::Ipv4Address::parse("203.0.113.12").value();
        snat.matches = {natd::MatchOutputInterface{"ens5"},
                        natd::MatchPoolSlot{natd::PoolMode::Random, 2, 0}};
        snat.masquerade = {natd::PortAllocation::Sequential, std::nullopt};
        CHECK(rendered(snat) ==
              std::vector<std::string>{"numgen reg 1 = random mod 2", "cmp eq reg 1 0x00000000",
                                       "immediate reg 1 0x0c7100cb",
                                       "nat snat ip addr_min reg 1 addr_max reg 1 flags 0x1"});
        snat.snat_to = natd::Ipv4Address::parse("203.0.113.11").value();
        snat.matches = {natd::MatchOutputInterface{"ens5"}, natd::MatchProtocol{6}};
        snat.masquerade = {natd::PortAllocation::Random, natd::PortRange{20000, 20009}};
        CHECK(rendered(snat) ==
              std::vector<std::string>{
                      "meta load l4proto => reg 1", "cmp eq reg 1 0x00000006",
                      "immediate reg 1 0x0b7100cb", "immediate reg 2 0x0000204e",
                      "immediate reg 3 0x0000294e",
                      "nat snat ip addr_min reg 1 addr_max reg 1 proto_min reg 2 proto_max reg 3 "
                      "flags 0x7"});
}

TEST_CASE("With flow offload the batch adds the flowtable before the rules that name it", "[nft]") {
        auto input = nat_input();
        input.flow_offload = true;
        const auto plan = natd::make_nat_ruleset(input);
        const auto batch = natd::build_replace_batch(plan, 100);
        std::vector<std::string> described;
        for (const auto& [seq, text] : batch.descriptions)
                described.push_back(text);
        const auto flowtable =
                std::find(described.begin(), described.end(), "add flowtable ip natd ft");
        REQUIRE(flowtable != described.end());
        const auto first_offload = std::find_if(described.begin(), described.end(), [](auto& d) {
                return d.find("flow add @ft") != std::string::npos;
        });
        REQUIRE(first_offload != described.end());
        CHECK(flowtable < first_offload);
        CHECK(std::count_if(described.begin(), described.end(), [](auto& d) {
                      return d.find("flow add @ft") != std::string::npos;
              }) == 2);
        CHECK(*first_offload ==
              "add rule ip natd forward iifname ens5 oifname ens6 meta l4proto tcp counter flow "
              "add @ft");
        // The flowtable's devices are in the message: both ENIs.
        const std::string bytes(batch.bytes.begin(), batch.bytes.end());
        CHECK(bytes.find(std::string("ens5\0", 5)) != std::string::npos);
        natd::RulePlan offload;
        offload.action = natd::RuleAction::FlowOffload;
        const auto r = natd::render_rule(offload);
        REQUIRE(r.size() == 2);
        CHECK(r[1].starts_with("flow_offload"));
        CHECK(r[1].find("ft") != std::string::npos);
}

TEST_CASE("The replace batch is one transaction that recreates only natd's table", "[nft]") {
        const auto plan = natd::make_nat_ruleset(nat_input());
        const auto batch = natd::build_replace_batch(plan, 100);

        std::vector<uint16_t> types;
        std::vector<uint32_t> seqs;
        std::vector<std::vector<std::string>> rules;
        std::string printed;  // natd's rules as libnftnl prints them (nft --debug=netlink)
        int left = static_cast<int>(batch.bytes.size());
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(batch.bytes.data());
             mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
                types.push_back(nlh->nlmsg_type);
                seqs.push_back(nlh->nlmsg_seq);
                if (nlh->nlmsg_type == nft_type(NFT_MSG_NEWRULE)) {
                        natd::NftnlRulePtr r(nftnl_rule_alloc());
                        REQUIRE(nftnl_rule_nlmsg_parse(nlh, r.get()) == 0);
                        CHECK(std::string(nftnl_rule_get_str(r.get(), NFTNL_RULE_TABLE)) == "natd");
                        std::vector<std::string> exprs;
                        nftnl_expr_foreach(
                                r.get(),
                                [](nftnl_expr* e, void* data) {
                                        static_cast<std::vector<std::string>*>(data)->push_back(
                                                nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
                                        return 0;
                                },
                                &exprs);
                        rules.push_back(exprs);
                        std::array<char, 4096> text{};
                        nftnl_rule_snprintf(text.data(), text.size(), r.get(), NFTNL_OUTPUT_DEFAULT,
                                            0);
                        printed += text.data();
                        printed += '\n';  // as nft ends each rule it prints
                }
        }
        CHECK(left == 0);  // nothing but whole messages
        CHECK(types == std::vector<uint16_t>{
                               NFNL_MSG_BATCH_BEGIN,
                               nft_type(NFT_MSG_NEWTABLE),
                               nft_type(NFT_MSG_DELTABLE),
                               nft_type(NFT_MSG_NEWTABLE),
                               nft_type(NFT_MSG_NEWCHAIN),
                               nft_type(NFT_MSG_NEWCHAIN),
                               nft_type(NFT_MSG_NEWRULE),
                               nft_type(NFT_MSG_NEWRULE),
                               nft_type(NFT_MSG_NEWRULE),
                               nft_type(NFT_MSG_NEWRULE),
                               nft_type(NFT_MSG_NEWRULE),
                               nft_type(NFT_MSG_NEWRULE),
                               nft_type(NFT_MSG_NEWRULE),
                               nft_type(NFT_MSG_NEWRULE),
                               nft_type(NFT_MSG_NEWRULE),
                               nft_type(NFT_MSG_NEWRULE),
                               nft_type(NFT_MSG_NEWRULE),
                               NFNL_MSG_BATCH_END,
                       });
        for (size_t i = 0; i < seqs.size(); ++i)
                CHECK(seqs[i] == 100 + i);
        // Every message but the batch delimiters is acknowledged.
        CHECK(batch.acked == std::vector<uint32_t>(seqs.begin() + 1, seqs.end() - 1));
        CHECK(batch.descriptions.at(102) == "delete table ip natd");
        CHECK(batch.descriptions.at(106) ==
              "add rule ip natd postrouting iifname ens6 oifname ens5 ip saddr 10.0.2.0/24 "
              "counter masquerade");
        REQUIRE(rules.size() == 11);
        for (const auto& r : rules)
                CHECK(std::count(r.begin(), r.end(), "counter") == 1);  // a counter on every rule
        // Expression for expression and the comment: what the nft binary
        // sends for the same rules.
        CHECK(printed == without_handles(kKernelRules));
}

TEST_CASE("Comparing the kernel's table with the plan finds every difference", "[nft]") {
        const auto plan = natd::make_nat_ruleset(nat_input());

        SECTION("identical") {
                CHECK(natd::compare_ruleset(plan, kernel_ens5_ens6()).empty());
        }
        SECTION("table absent") {
                const auto diffs = natd::compare_ruleset(plan, natd::KernelRuleset{});
                CHECK(diffs == std::vector<std::string>{"table ip natd is missing"});
        }
        SECTION("table dormant: its chains see no packet") {
                auto k = kernel_ens5_ens6();
                k.flags = NFT_TABLE_F_DORMANT;
                CHECK(natd::compare_ruleset(plan, k) ==
                      std::vector<std::string>{"table ip natd is dormant"});
        }
        SECTION("a rule deleted") {
                auto k = kernel_ens5_ens6();
                k.rules.pop_back();
                const auto diffs = natd::compare_ruleset(plan, k);
                REQUIRE(diffs.size() == 1);
                CHECK(diffs[0] == "chain forward has 8 rules, expected 9");
        }
        SECTION("the invalid drop deleted") {
                auto k = kernel_ens5_ens6();
                k.rules.erase(k.rules.begin() + 2);  // forward's first rule
                const auto diffs = natd::compare_ruleset(plan, k);
                REQUIRE(!diffs.empty());
                CHECK(diffs[0] == "chain forward has 8 rules, expected 9");
                // The next rule moved up: same role, the other ENI.
                CHECK(diffs[1].rfind("chain forward rule 1 (iifname ens6 ct state invalid counter "
                                     "drop) differs",
                                     0) == 0);
        }
        SECTION("a source CIDR's rule matching another prefix") {
                auto k = kernel_ens5_ens6();
                k.rules[4].expressions.at(5) = "cmp eq reg 1 0x0003000a";  // 10.0.3.0/24
                const auto diffs = natd::compare_ruleset(plan, k);
                REQUIRE(diffs.size() == 1);
                CHECK(diffs[0].rfind("chain forward rule 3 (iifname ens6 oifname ens5 ip saddr "
                                     "10.0.2.0/24 counter accept) differs",
                                     0) == 0);
        }
        SECTION("the kernel holds ForwardPolicy=drop, the plan is accept") {
                const auto diffs = natd::compare_ruleset(
                        natd::make_nat_ruleset(nat_input(natd::ForwardPolicy::Accept)),
                        kernel_ens5_ens6());
                CHECK(diffs == std::vector<std::string>{"chain forward has 9 rules, expected 8"});
        }
        SECTION("rules naming another interface") {
                // The kernel holds the rules for ens6; the plan wants ens7.
                auto ens7 = nat_input();
                ens7.private_ifname = "ens7";
                const auto diffs =
                        natd::compare_ruleset(natd::make_nat_ruleset(ens7), kernel_ens5_ens6());
                // All but ens5's invalid drop, the hairpin and the final drop
                // name the private ENI.
                CHECK(diffs.size() == 8);
                CHECK(diffs[0].rfind("chain postrouting rule 1 (iifname ens7", 0) == 0);
        }
        SECTION("a chain's policy changed") {
                auto k = kernel_ens5_ens6();
                k.chains[1].policy = 0;  // NF_DROP
                const auto diffs = natd::compare_ruleset(plan, k);
                CHECK(diffs ==
                      std::vector<std::string>{
                              "chain forward has a different type, hook, priority or policy"});
        }
        SECTION("a rule without natd's comment") {
                auto k = kernel_ens5_ens6();
                k.rules[0].comment.clear();
                CHECK(natd::compare_ruleset(plan, k) ==
                      std::vector<std::string>{
                              "chain postrouting rule 1 has comment \"\", expected "
                              "\"natd: masquerade\""});
        }
        SECTION("a chain someone else added") {
                auto k = kernel_ens5_ens6();
                k.chains.push_back({"sneaky", false, "", 0, 0, 0});
                CHECK(natd::compare_ruleset(plan, k) ==
                      std::vector<std::string>{"chain sneaky is not natd's"});
        }
}

TEST_CASE("ForwardPolicy=accept sends the same rules but the final drop", "[nft]") {
        const auto batch = natd::build_replace_batch(
                natd::make_nat_ruleset(nat_input(natd::ForwardPolicy::Accept)), 1);
        std::string printed;
        int left = static_cast<int>(batch.bytes.size());
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(batch.bytes.data());
             mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
                if (nlh->nlmsg_type != nft_type(NFT_MSG_NEWRULE))
                        continue;
                natd::NftnlRulePtr r(nftnl_rule_alloc());
                REQUIRE(nftnl_rule_nlmsg_parse(nlh, r.get()) == 0);
                std::array<char, 4096> text{};
                nftnl_rule_snprintf(text.data(), text.size(), r.get(), NFTNL_OUTPUT_DEFAULT, 0);
                printed += text.data();
                printed += '\n';
        }
        // kKernelRules without its last rule, drop-other.
        const std::string all = without_handles(kKernelRules);
        const auto last = all.rfind("ip natd forward\n");
        REQUIRE(all.find("natd: drop-other", last) != std::string::npos);
        CHECK(printed == all.substr(0, last));
}

TEST_CASE("A ruleset of hundreds of source CIDRs is one well-formed batch, however large",
          "[nft]") {
        // 1000 /24s make about 2000 rules, far past the 64 KiB a fixed batch
        // buffer once had (and overran, corrupting the heap, at 100 subnets).
        auto input = nat_input();
        input.source_cidrs.clear();
        for (int i = 0; i < 1000; ++i)
                input.source_cidrs.push_back(cidr(("10." + std::to_string(1 + i / 256) + "." +
                                                   std::to_string(i % 256) + ".0/24")
                                                          .c_str()));
        const auto plan = natd::make_nat_ruleset(input);
        const auto batch = natd::build_replace_batch(plan, 7);
        CHECK(batch.bytes.size() > size_t{64} * 1024);

        size_t messages = 0;
        size_t rules = 0;
        uint32_t expected_seq = 7;
        int left = static_cast<int>(batch.bytes.size());
        const nlmsghdr* last = nullptr;
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(batch.bytes.data());
             mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
                CHECK(nlh->nlmsg_seq == expected_seq++);
                if (nlh->nlmsg_type == nft_type(NFT_MSG_NEWRULE)) {
                        natd::NftnlRulePtr r(nftnl_rule_alloc());
                        REQUIRE(nftnl_rule_nlmsg_parse(nlh, r.get()) == 0);
                        ++rules;
                }
                ++messages;
                last = nlh;
        }
        CHECK(left == 0);  // nothing after the last message, nothing cut
        REQUIRE(last != nullptr);
        CHECK(last->nlmsg_type == NFNL_MSG_BATCH_END);
        CHECK(rules == plan.rules.size());
        CHECK(rules >= 2000);
        CHECK(batch.acked.size() == messages - 2);  // all but BEGIN and END
}

// Found by fuzz-nft-ruleset (fuzz/regressions/nft-ruleset/): libnftnl's
// getters return null for an attribute the message lacks, and the
// read-back made std::strings of them.
TEST_CASE("Chain and rule messages without their names read as empty, not a crash", "[nft]") {
        std::array<char, 4096> buf{};
        natd::NftnlChainPtr chain(nftnl_chain_alloc());
        nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TABLE, "natd");
        // A base chain (libnftnl sends the hook with both), without a type.
        nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_HOOKNUM, 2);
        nftnl_chain_set_s32(chain.get(), NFTNL_CHAIN_PRIO, 0);
        auto* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_NEWCHAIN, NFPROTO_IPV4, 0, 1);
        nftnl_chain_nlmsg_build_payload(nlh, chain.get());
        natd::KernelRuleset kernel;
        REQUIRE(natd::parse_chain_message(nlh, "natd", kernel));
        REQUIRE(kernel.chains.size() == 1);
        CHECK(kernel.chains[0].name.empty());
        CHECK(kernel.chains[0].base);
        CHECK(kernel.chains[0].type.empty());

        natd::NftnlRulePtr rule(nftnl_rule_alloc());  // no table, no chain
        nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_NEWRULE, NFPROTO_IPV4, 0, 2);
        nftnl_rule_nlmsg_build_payload(nlh, rule.get());
        REQUIRE(natd::parse_rule_message(nlh, "natd", kernel));
        CHECK(kernel.rules.empty());  // not natd's table
}

// Found by fuzz-nft-ruleset (fuzz/regressions/nft-ruleset/): a comment TLV
// whose length runs past the rule's userdata was read past it.
TEST_CASE("A rule comment longer than the rule's userdata is not read", "[nft]") {
        std::array<char, 4096> buf{};
        natd::NftnlRulePtr rule(nftnl_rule_alloc());
        nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, "natd");
        nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, "forward");
        // type NFTNL_UDATA_RULE_COMMENT, length 200, 4 bytes of it there.
        const std::array<uint8_t, 6> userdata{NFTNL_UDATA_RULE_COMMENT, 200, 'n', 'a', 't', 'd'};
        nftnl_rule_set_data(rule.get(), NFTNL_RULE_USERDATA, userdata.data(), userdata.size());
        auto* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_NEWRULE, NFPROTO_IPV4, 0, 1);
        nftnl_rule_nlmsg_build_payload(nlh, rule.get());
        natd::KernelRuleset kernel;
        REQUIRE(natd::parse_rule_message(nlh, "natd", kernel));
        REQUIRE(kernel.rules.size() == 1);
        CHECK(kernel.rules[0].chain == "forward");
        CHECK(kernel.rules[0].comment.empty());
}
