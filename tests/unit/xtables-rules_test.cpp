#include <algorithm>
#include <cstring>
#include <string_view>

#include <catch2/catch.hpp>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/xt_conntrack.h>

#include "xtables-captured.hpp"
#include "xtables-rules.hpp"

using namespace natd;

namespace {

// ens6 is the private ENI, ens5 the public one, as in capture-xtables.py.
const std::vector<NatPacket> kPackets =
        nat_packets("ens5", "ens6", Ipv4Cidr::parse("10.0.2.0/24").value());

XtablesTable captured(std::string_view name) {
        for (const auto& c : test::kCapturedXtables) {
                if (name != c.name)
                        continue;
                XtablesTable t;
                t.valid_hooks = c.valid_hooks;
                std::copy(std::begin(c.hook_entry), std::end(c.hook_entry), t.hook_entry.begin());
                std::copy(std::begin(c.underflow), std::end(c.underflow), t.underflow.begin());
                const std::string_view hex = c.entries_hex;
                for (size_t i = 0; i + 1 < hex.size(); i += 2)
                        t.entries.push_back(static_cast<uint8_t>(
                                std::stoul(std::string(hex.substr(i, 2)), nullptr, 16)));
                return t;
        }
        FAIL("no captured table " << name);
        return {};
}

std::vector<NftChain> chains_of(std::string_view name) {
        auto chains = parse_xtables_filter(captured(name));
        REQUIRE(chains.ok());
        return chains.value();
}

const NftChain& chain(const std::vector<NftChain>& chains, std::string_view name) {
        for (const auto& c : chains)
                if (c.name == name)
                        return c;
        FAIL("no chain " << name);
        return chains.front();
}

}  // namespace

TEST_CASE("iptables-legacy: iptables-services' FORWARD -j REJECT blocks NAT traffic") {
        const auto chains = chains_of("iptables_services");
        REQUIRE(chains.size() == 3);
        const auto& forward = chain(chains, "FORWARD");
        CHECK(forward.family == kLegacyFamily);
        CHECK(forward.hook == NftHook::Forward);
        CHECK_FALSE(forward.policy_drop);
        REQUIRE(forward.rules.size() == 1);
        CHECK(forward.rules[0].verdict.kind == NftVerdict::Kind::Reject);
        const auto& input = chain(chains, "INPUT");
        CHECK(input.hook == NftHook::Other);
        REQUIRE(input.rules.size() == 5);
        CHECK(describe(input.rules[0]) ==
              "-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT");
        // -p tcp and -m tcp are beyond natd: unknown, and said so.
        CHECK(describe(input.rules[3]) ==
              "-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT");

        const auto blockers = find_blockers(chains, kPackets);
        REQUIRE(blockers.size() == 1);
        CHECK(blockers[0] ==
              "iptables-legacy table filter chain FORWARD rule 1 (reject) drops new NAT traffic "
              "from 10.0.2.0/24: -A FORWARD -j REJECT");
}

TEST_CASE("iptables-legacy: a hardened FORWARD opened for NAT traffic is no blocker") {
        const auto chains = chains_of("hardened_opened");
        const auto& forward = chain(chains, "FORWARD");
        CHECK(forward.policy_drop);
        REQUIRE(forward.rules.size() == 4);
        CHECK(describe(forward.rules[0]) == "-A FORWARD -m conntrack --ctstate INVALID -j DROP");
        CHECK(describe(forward.rules[2]) == "-A FORWARD -i ens6 -o ens5 -j ACCEPT");
        CHECK(describe(forward.rules[3]) == "-A FORWARD -j LOG");  // goes on to the policy
        CHECK(chain(chains, "INPUT").policy_drop);
        CHECK(find_blockers(chains, kPackets).empty());
}

TEST_CASE("iptables-legacy: Docker's chains block until DOCKER-USER accepts NAT traffic") {
        const auto chains = chains_of("docker");
        REQUIRE(chains.size() == 7);
        CHECK(chain(chains, "DOCKER").rules.empty());
        CHECK_FALSE(chain(chains, "DOCKER").hook);
        const auto& user = chain(chains, "DOCKER-USER");
        REQUIRE(user.rules.size() == 1);  // its own RETURN; the chain's implicit one is left out
        CHECK(user.rules[0].verdict.kind == NftVerdict::Kind::Return);
        const auto& forward = chain(chains, "FORWARD");
        REQUIRE(forward.rules.size() == 6);
        CHECK(forward.rules[0].verdict == NftVerdict{NftVerdict::Kind::Jump, "DOCKER-USER"});
        CHECK(describe(forward.rules[4]) == "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT");

        const auto blockers = find_blockers(chains, kPackets);
        REQUIRE(blockers.size() == 1);
        CHECK(blockers[0] ==
              "iptables-legacy table filter chain FORWARD (forward hook) has policy drop: it "
              "drops new NAT traffic from 10.0.2.0/24");

        CHECK(find_blockers(chains_of("docker_user_opened"), kPackets).empty());
}

TEST_CASE("iptables-legacy: wildcards, sources, gotos and what natd cannot evaluate") {
        const auto chains = chains_of("mixed");
        const auto& forward = chain(chains, "FORWARD");
        REQUIRE(forward.rules.size() == 4);
        CHECK(forward.rules[1].matches.at(0).prefix);
        CHECK(describe(forward.rules[1]) == "-A FORWARD -i eth+ -j DROP");
        CHECK(describe(forward.rules[2]) == "-A FORWARD -s 192.168.0.0/16 -j DROP");
        CHECK(forward.rules[3].verdict == NftVerdict{NftVerdict::Kind::Goto, "checks"});

        const auto blockers = find_blockers(chains, kPackets);
        REQUIRE(blockers.size() == 2);
        CHECK(blockers[0] ==
              "iptables-legacy table filter chain checks rule 1 (drop) may drop new NAT traffic "
              "from 10.0.2.0/24: -A checks -i ens+ -p tcp -m tcp --dport 25 -j DROP (natd cannot "
              "evaluate -m tcp --dport 25)");
        CHECK(blockers[1] ==
              "iptables-legacy table filter chain checks rule 2 (drop) drops new NAT traffic from "
              "10.0.2.0/24: -A checks -s 10.0.2.0/24 -o ens5 -j DROP");
        // Replies (from the internet, out of ens6) match neither.
        for (const auto& b : blockers)
                CHECK(b.find("replies") == std::string::npos);
}

TEST_CASE("iptables-legacy: a malformed table is an error, never a crash") {
        XtablesTable t = captured("docker");
        SECTION("truncated") {
                t.entries.resize(t.entries.size() - 3);
                CHECK_FALSE(parse_xtables_filter(t).ok());
        }
        SECTION("an entry's next offset beyond the end") {
                // ipt_entry::next_offset (offset 90..91, little-endian) of the first entry.
                t.entries[90] = 0xff;
                t.entries[91] = 0xff;
                const auto r = parse_xtables_filter(t);
                REQUIRE_FALSE(r.ok());
                CHECK(r.error().find("malformed entry at offset") != std::string::npos);
        }
        SECTION("every single byte flipped") {
                const XtablesTable original = t;
                for (size_t i = 0; i < original.entries.size(); ++i) {
                        t.entries = original.entries;
                        t.entries[i] ^= 0xA5;
                        (void)parse_xtables_filter(t);  // ok or error; never out of bounds
                }
        }
        SECTION("a chain that starts between entries") {
                t.hook_entry[2] += 4;  // FORWARD
                const auto r = parse_xtables_filter(t);
                REQUIRE_FALSE(r.ok());
                CHECK(r.error().find("chain FORWARD starts or ends between entries") !=
                      std::string::npos);
        }
        SECTION("empty, with hooks that point nowhere") {
                t.entries.clear();
                CHECK_FALSE(parse_xtables_filter(t).ok());
        }
        SECTION("empty, without hooks") {
                t.entries.clear();
                t.valid_hooks = 0;
                const auto r = parse_xtables_filter(t);
                REQUIRE(r.ok());
                CHECK(r.value().empty());
        }
}

TEST_CASE("iptables-legacy: xt_conntrack's SNAT/DNAT are beyond natd, its UNTRACKED is nft's") {
        auto conntrack = [](uint16_t states) {
                xt_conntrack_mtinfo3 info{};
                info.match_flags = XT_CONNTRACK_STATE;
                info.state_mask = states;
                std::vector<uint8_t> data(sizeof(info));
                std::memcpy(data.data(), &info, sizeof(info));
                return xtables_match("conntrack", 3, data);
        };
        const auto snat = conntrack(XT_CONNTRACK_STATE_SNAT);
        REQUIRE(snat);
        CHECK(snat->field == NftMatch::Field::Unknown);
        CHECK(snat->text == "-m conntrack --ctstate SNAT/DNAT");
        const auto untracked = conntrack(XT_CONNTRACK_STATE_UNTRACKED);
        REQUIRE(untracked);
        CHECK(untracked->field == NftMatch::Field::CtState);
        CHECK(untracked->ct_states == NF_CT_STATE_UNTRACKED_BIT);
        CHECK(untracked->text == "-m conntrack --ctstate UNTRACKED");
        const auto established = conntrack(XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED));
        REQUIRE(established);
        CHECK(established->ct_states == NF_CT_STATE_BIT(IP_CT_ESTABLISHED));
}

TEST_CASE("iptables-legacy: a namespace without the table is not read") {
        const auto r = read_xtables_filter("/nonexistent/ip_tables_names");
        REQUIRE(r.ok());
        CHECK_FALSE(r.value());
}
