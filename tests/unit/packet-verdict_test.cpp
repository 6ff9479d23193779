// Foreign rulesets evaluated against NAT packets. The chains are written as
// the rulesets that real programs install (firewalld, Docker's iptables-nft
// chains, iptables-services, a CIS-hardened inet filter), in the vocabulary
// foreign-rules.cpp reads them into; what natd does not understand is an
// Unknown match, as it would be when read from the kernel.
#include <catch2/catch.hpp>
#include <linux/netfilter/nf_conntrack_common.h>

#include "packet-verdict.hpp"

using natd::NftChain;
using natd::NftHook;
using natd::NftMatch;
using natd::NftRule;
using natd::NftVerdict;
using Kind = natd::NftVerdict::Kind;
using Field = natd::NftMatch::Field;

namespace {

NftMatch make_match(Field field, bool negate, std::string name, uint32_t states, std::string text) {
        NftMatch m;
        m.field = field;
        m.negate = negate;
        m.name = std::move(name);
        m.ct_states = states;
        m.text = std::move(text);
        return m;
}
NftMatch iif(const char* name, bool negate = false) {
        return make_match(Field::InputName, negate, name, 0,
                          std::string("iifname ") + (negate ? "!= " : "") + "\"" + name + "\"");
}
NftMatch oif(const char* name, bool negate = false) {
        return make_match(Field::OutputName, negate, name, 0,
                          std::string("oifname ") + (negate ? "!= " : "") + "\"" + name + "\"");
}
NftMatch ct(uint32_t states, bool negate = false) {
        return make_match(Field::CtState, negate, "", states, "ct state");
}
NftMatch unknown(const char* what) {
        return make_match(Field::Unknown, false, "", 0, what);
}
NftRule rule(uint64_t handle, std::vector<NftMatch> matches, Kind kind, std::string chain = "") {
        NftRule r;
        r.handle = handle;
        r.matches = std::move(matches);
        r.verdict = {kind, std::move(chain)};
        return r;
}
NftChain base(const char* family, const char* table, const char* name, NftHook hook,
              bool policy_drop, std::vector<NftRule> rules) {
        return {family, table, name, hook, 0, policy_drop, std::move(rules)};
}
NftChain regular(const char* family, const char* table, const char* name,
                 std::vector<NftRule> rules) {
        return {family, table, name, std::nullopt, 0, false, std::move(rules)};
}

constexpr uint32_t kEstablishedRelated =
        NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
constexpr uint32_t kInvalid = NF_CT_STATE_INVALID_BIT;

std::vector<std::string> blockers(const std::vector<NftChain>& chains) {
        return natd::find_blockers(
                chains,
                natd::nat_packets("ens5", "ens6", natd::Ipv4Cidr::parse("10.0.2.0/24").value()));
}
bool any_contains(const std::vector<std::string>& v, const std::string& text) {
        for (const auto& s : v)
                if (s.find(text) != std::string::npos)
                        return true;
        return false;
}

}  // namespace

TEST_CASE("iptables-services' FORWARD -j REJECT blocks; a conditional drop does not") {
        auto chains = std::vector<NftChain>{base("ip", "filter", "FORWARD", NftHook::Forward, false,
                                                 {rule(4, {}, Kind::Reject)})};
        auto found = blockers(chains);
        REQUIRE(found.size() == 1);
        CHECK(found[0].starts_with("table ip filter chain FORWARD rule handle 4 (reject) drops new "
                                   "NAT traffic from 10.0.2.0/24"));

        chains[0].rules = {rule(5, {ct(kInvalid)}, Kind::Drop)};
        CHECK(blockers(chains).empty());
}

TEST_CASE("a rule that drops exactly the NAT traffic, in any hook, is found") {
        CHECK(any_contains(blockers({base("inet", "fw", "fwd", NftHook::Forward, false,
                                          {rule(7, {iif("ens6")}, Kind::Drop)})}),
                           "table inet fw chain fwd rule handle 7 (drop) drops new NAT traffic"));
        // Another interface's traffic: no blocker.
        CHECK(blockers({base("inet", "fw", "fwd", NftHook::Forward, false,
                             {rule(7, {iif("docker0")}, Kind::Drop)})})
                      .empty());
        // Prerouting policy drop: before routing, oifname is empty.
        const auto pre = blockers({base("ip", "raw", "pre", NftHook::Prerouting, true,
                                        {rule(2, {oif("ens5")}, Kind::Accept)})});
        CHECK(any_contains(pre, "table ip raw chain pre (prerouting hook) has policy drop"));
        // The replies are dropped in postrouting.
        CHECK(any_contains(blockers({base("ip", "out", "post", NftHook::Postrouting, false,
                                          {rule(3, {oif("ens6")}, Kind::Drop)})}),
                           "drops replies to 10.0.2.0/24"));
}

TEST_CASE("Docker's chains: DOCKER-USER accepting NAT traffic clears the blocker") {
        // iptables-nft: FORWARD policy drop, jump DOCKER-USER, then Docker's own.
        std::vector<NftChain> chains{
                base("ip", "filter", "FORWARD", NftHook::Forward, true,
                     {rule(10, {}, Kind::Jump, "DOCKER-USER"),
                      rule(11, {}, Kind::Jump, "DOCKER-ISOLATION-STAGE-1"),
                      rule(12, {oif("docker0"), ct(kEstablishedRelated)}, Kind::Accept),
                      rule(13, {oif("docker0")}, Kind::Jump, "DOCKER"),
                      rule(14, {iif("docker0"), oif("docker0", true)}, Kind::Accept),
                      rule(15, {iif("docker0"), oif("docker0")}, Kind::Accept)}),
                regular("ip", "filter", "DOCKER-USER", {rule(20, {}, Kind::Return)}),
                regular("ip", "filter", "DOCKER-ISOLATION-STAGE-1",
                        {rule(30, {iif("docker0"), oif("docker0", true)}, Kind::Jump,
                              "DOCKER-ISOLATION-STAGE-2"),
                         rule(31, {}, Kind::Return)}),
                regular("ip", "filter", "DOCKER-ISOLATION-STAGE-2",
                        {rule(40, {oif("docker0")}, Kind::Drop), rule(41, {}, Kind::Return)}),
                regular("ip", "filter", "DOCKER", {}),
        };
        auto found = blockers(chains);
        REQUIRE(found.size() == 1);
        CHECK(found[0].starts_with("table ip filter chain FORWARD (forward hook) has policy drop: "
                                   "it drops new NAT traffic"));

        // Docker's documented way: accept it in DOCKER-USER, both directions.
        chains[1].rules = {
                rule(21, {iif("ens6"), oif("ens5")}, Kind::Accept),
                rule(22, {iif("ens5"), oif("ens6"), ct(kEstablishedRelated)}, Kind::Accept),
                rule(20, {}, Kind::Return)};
        CHECK(blockers(chains).empty());
}

TEST_CASE("a CIS-hardened inet filter opened for NAT traffic is no blocker") {
        std::vector<NftChain> chains{base("inet", "filter", "forward", NftHook::Forward, true,
                                          {rule(5, {ct(kInvalid)}, Kind::Drop),
                                           rule(6, {ct(kEstablishedRelated)}, Kind::Accept)})};
        auto closed = blockers(chains);
        REQUIRE(closed.size() == 1);  // new NAT traffic: established replies pass
        CHECK(closed[0].find("new NAT traffic") != std::string::npos);

        chains[0].rules.push_back(rule(7, {iif("ens6"), oif("ens5")}, Kind::Accept));
        CHECK(blockers(chains).empty());
}

TEST_CASE("firewalld's zone dispatch through verdict maps is beyond natd: may, not does") {
        // inet firewalld: filter_FORWARD policy accept here, but the zone
        // dispatch goes through a vmap and ends in a reject.
        std::vector<NftChain> chains{
                base("inet", "firewalld", "filter_FORWARD", NftHook::Forward, false,
                     {rule(50, {ct(kEstablishedRelated)}, Kind::Accept),
                      rule(51, {ct(kInvalid)}, Kind::Drop),
                      rule(52, {unknown("a verdict map (__map0)")}, Kind::Jump, ""),
                      rule(53, {}, Kind::Reject)})};
        auto found = blockers(chains);
        REQUIRE(found.size() == 1);
        CHECK(found[0].starts_with("table inet firewalld chain filter_FORWARD rule handle 53 "
                                   "(reject) may drop new NAT traffic"));

        // An unknown match on a drop: "may drop", naming what natd could not read.
        auto maybe = blockers(
                {base("inet", "fw", "fwd", NftHook::Forward, false,
                      {rule(9, {iif("ens6"), unknown("a set lookup (blocklist)")}, Kind::Drop)})});
        REQUIRE_FALSE(maybe.empty());
        CHECK(maybe[0].find("may drop") != std::string::npos);
        CHECK(maybe[0].find("natd cannot evaluate a set lookup (blocklist)") != std::string::npos);
}

TEST_CASE("goto returns to the base chain's caller; a jump loop is no hang") {
        std::vector<NftChain> chains{
                base("ip", "t", "fwd", NftHook::Forward, false,
                     {rule(1, {}, Kind::Goto, "a"), rule(2, {}, Kind::Drop)}),
                regular("ip", "t", "a", {rule(3, {iif("ens6")}, Kind::Return)})};
        // After a goto, the base chain does not resume: rule 2 is never reached.
        CHECK(blockers(chains).empty());
        // After a jump it does.
        chains[0].rules[0].verdict.kind = Kind::Jump;
        CHECK(blockers(chains).size() == 1);
        std::vector<NftChain> loop{
                base("ip", "t", "fwd", NftHook::Forward, false, {rule(1, {}, Kind::Jump, "a")}),
                regular("ip", "t", "a", {rule(2, {}, Kind::Jump, "a")})};
        CHECK(blockers(loop).empty());
}
