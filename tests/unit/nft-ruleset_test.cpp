#include <catch2/catch.hpp>
#include <libmnl/libmnl.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "handles.hpp"
#include "nft-ruleset.hpp"

namespace {

uint16_t nft_type(uint16_t msg) {
        return static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg);
}

// What the kernel would report for a faithfully applied plan.
natd::KernelRuleset kernel_holding(const natd::RulesetPlan& plan) {
        natd::KernelRuleset k;
        k.present = true;
        for (const auto& c : plan.chains)
                k.chains.push_back({c.name, true, c.type == natd::ChainType::Nat ? "nat" : "filter",
                                    c.hook == natd::Hook::Postrouting ? 4u : 2u, c.priority, 1u});
        for (const auto& r : plan.rules)
                k.rules.push_back(
                        {r.chain, 0, natd::rule_comment(r.role), natd::render_rule(r), 0, 0});
        return k;
}

}  // namespace

TEST_CASE("Rules render in libnftnl's notation, counters without values", "[nft]") {
        const auto plan = natd::make_nat_ruleset("ens5", "ens6");
        // "ens6" and "ens5" as little-endian words, zero padded to IFNAMSIZ.
        CHECK(natd::render_rule(plan.rules[0]) ==
              std::vector<std::string>{
                      "meta load iifname => reg 1",
                      "cmp eq reg 1 0x36736e65 0x00000000 0x00000000 0x00000000",
                      "meta load oifname => reg 1",
                      "cmp eq reg 1 0x35736e65 0x00000000 0x00000000 0x00000000",
                      "counter",
                      "masq",
              });
        CHECK(natd::render_rule(plan.rules[2]) ==
              std::vector<std::string>{
                      "meta load iifname => reg 1",
                      "cmp eq reg 1 0x35736e65 0x00000000 0x00000000 0x00000000",
                      "meta load oifname => reg 1",
                      "cmp eq reg 1 0x36736e65 0x00000000 0x00000000 0x00000000",
                      "ct load state => reg 1",
                      "bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000",
                      "cmp neq reg 1 0x00000000",
                      "counter",
                      "immediate reg 0 accept",
              });
        CHECK(natd::render_rule(plan.rules[3]).back() == "immediate reg 0 drop");
}

TEST_CASE("The replace batch is one transaction that recreates only natd's table", "[nft]") {
        const auto plan = natd::make_nat_ruleset("ens5", "ens6");
        const auto batch = natd::build_replace_batch(plan, 100);

        std::vector<uint16_t> types;
        std::vector<uint32_t> seqs;
        std::vector<std::vector<std::string>> rules;
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
                               NFNL_MSG_BATCH_END,
                       });
        for (size_t i = 0; i < seqs.size(); ++i)
                CHECK(seqs[i] == 100 + i);
        // Every message but the batch delimiters is acknowledged.
        CHECK(batch.acked == std::vector<uint32_t>(seqs.begin() + 1, seqs.end() - 1));
        CHECK(batch.descriptions.at(102) == "delete table ip natd");
        CHECK(batch.descriptions.at(106) ==
              "add rule ip natd postrouting iifname ens6 oifname ens5 counter masquerade");
        REQUIRE(rules.size() == 4);
        for (const auto& r : rules)
                CHECK(std::count(r.begin(), r.end(), "counter") == 1);  // a counter on every rule
}

TEST_CASE("Comparing the kernel's table with the plan finds every difference", "[nft]") {
        const auto plan = natd::make_nat_ruleset("ens5", "ens6");

        SECTION("identical") {
                CHECK(natd::compare_ruleset(plan, kernel_holding(plan)).empty());
        }
        SECTION("table absent") {
                const auto diffs = natd::compare_ruleset(plan, natd::KernelRuleset{});
                CHECK(diffs == std::vector<std::string>{"table ip natd is missing"});
        }
        SECTION("a rule deleted") {
                auto k = kernel_holding(plan);
                k.rules.pop_back();
                const auto diffs = natd::compare_ruleset(plan, k);
                REQUIRE(diffs.size() == 1);
                CHECK(diffs[0] == "chain forward has 2 rules, expected 3");
        }
        SECTION("a rule naming the old interface") {
                auto k = kernel_holding(natd::make_nat_ruleset("ens5", "ens7"));
                const auto diffs = natd::compare_ruleset(plan, k);
                CHECK(diffs.size() == 4);
                CHECK(diffs[0].rfind("chain postrouting rule 1 (iifname ens6", 0) == 0);
        }
        SECTION("a chain's policy changed") {
                auto k = kernel_holding(plan);
                k.chains[1].policy = 0;  // NF_DROP
                const auto diffs = natd::compare_ruleset(plan, k);
                CHECK(diffs ==
                      std::vector<std::string>{
                              "chain forward has a different type, hook, priority or policy"});
        }
        SECTION("a rule without natd's comment") {
                auto k = kernel_holding(plan);
                k.rules[0].comment.clear();
                CHECK(natd::compare_ruleset(plan, k) ==
                      std::vector<std::string>{
                              "chain postrouting rule 1 has comment \"\", expected "
                              "\"natd: masquerade\""});
        }
        SECTION("a chain someone else added") {
                auto k = kernel_holding(plan);
                k.chains.push_back({"sneaky", false, "", 0, 0, 0});
                CHECK(natd::compare_ruleset(plan, k) ==
                      std::vector<std::string>{"chain sneaky is not natd's"});
        }
}
