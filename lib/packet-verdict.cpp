#include "packet-verdict.hpp"

#include <algorithm>
#include <set>

#include <linux/netfilter/nf_conntrack_common.h>

#include "xtables-rules.hpp"

namespace natd {

namespace {

enum class Tri { False, True, Unknown };

// Where a probe's internet end lives: TEST-NET-1, as in data-path.hpp.
constexpr Ipv4Address kInternet{(192U << 24) | (2U << 8) | 1U};
// Deep enough for any real ruleset; a deeper (or looping) one is unknown.
constexpr int kMaxDepth = 16;

Tri evaluate(const NftMatch& m, const NatPacket& p) {
        bool hit = false;
        switch (m.field) {
        case NftMatch::Field::InputName:
                hit = m.prefix ? p.input.starts_with(m.name) : p.input == m.name;
                break;
        case NftMatch::Field::OutputName:
                hit = m.prefix ? p.output.starts_with(m.name) : p.output == m.name;
                break;
        case NftMatch::Field::CtState:
                hit = (p.ct_state & m.ct_states) != 0;
                break;
        case NftMatch::Field::Source:
                hit = m.cidr.contains(p.source);
                break;
        case NftMatch::Field::Destination:
                hit = m.cidr.contains(p.destination);
                break;
        case NftMatch::Field::Unknown:
                return Tri::Unknown;
        }
        return hit != m.negate ? Tri::True : Tri::False;
}

const char* hook_name(NftHook hook) {
        switch (hook) {
        case NftHook::Prerouting:
                return "prerouting";
        case NftHook::Forward:
                return "forward";
        case NftHook::Postrouting:
                return "postrouting";
        case NftHook::Other:
                break;
        }
        return "other";
}

// "table inet filter chain forward"; "iptables-legacy table filter chain FORWARD".
std::string chain_label(const NftChain& chain) {
        if (chain.family == kLegacyFamily)
                return chain.family + " table " + chain.table + " chain " + chain.name;
        return "table " + chain.family + " " + chain.table + " chain " + chain.name;
}

// " rule handle 7"; iptables-legacy rules have numbers, not handles.
std::string rule_label(const NftChain& chain, const NftRule& rule) {
        return (chain.family == kLegacyFamily ? " rule " : " rule handle ") +
               std::to_string(rule.handle);
}

struct Outcome {
        enum class Flow { Accept, Drop, Return } flow = Flow::Return;
        std::string blocker;  // Drop: the sentence
};

class Evaluator {
public:
        Evaluator(const std::vector<NftChain>& chains, const NatPacket& packet,
                  std::vector<std::string>& maybe)
            : chains_(chains), packet_(packet), maybe_(maybe) {}

        Outcome run(const NftChain& chain, int depth) {
                const std::string where = chain_label(chain);
                for (const auto& rule : chain.rules) {
                        Tri all = Tri::True;
                        std::string unknown;
                        for (const auto& m : rule.matches) {
                                const Tri t = evaluate(m, packet_);
                                if (t == Tri::False) {
                                        all = Tri::False;
                                        break;
                                }
                                if (t == Tri::Unknown) {
                                        all = Tri::Unknown;
                                        unknown = m.text;
                                }
                        }
                        if (all == Tri::False)
                                continue;
                        const auto kind = rule.verdict.kind;
                        const std::string at = where + rule_label(chain, rule);
                        if (all == Tri::Unknown) {
                                if (kind == NftVerdict::Kind::Drop ||
                                    kind == NftVerdict::Kind::Reject) {
                                        std::string s = at;
                                        s += " (";
                                        s += verdict_word(kind);
                                        s += ") may drop " + packet_.description;
                                        s += ": " + describe(rule);
                                        s += " (natd cannot evaluate " + unknown + ")";
                                        maybe_.push_back(std::move(s));
                                } else if (kind != NftVerdict::Kind::Continue) {
                                        // It may accept first: later drops only "may".
                                        uncertain_ = true;
                                }
                                continue;
                        }
                        switch (kind) {
                        case NftVerdict::Kind::Continue:
                                continue;
                        case NftVerdict::Kind::Accept:
                                return {Outcome::Flow::Accept, ""};
                        case NftVerdict::Kind::Drop:
                        case NftVerdict::Kind::Reject:
                                return drop(at + " (" + verdict_word(kind) + ")", describe(rule));
                        case NftVerdict::Kind::Return:
                                return {Outcome::Flow::Return, ""};
                        case NftVerdict::Kind::Jump:
                        case NftVerdict::Kind::Goto: {
                                const NftChain* target = find(chain, rule.verdict.chain);
                                if (target == nullptr || depth >= kMaxDepth) {
                                        uncertain_ = true;
                                        continue;
                                }
                                Outcome sub = run(*target, depth + 1);
                                if (sub.flow != Outcome::Flow::Return ||
                                    kind == NftVerdict::Kind::Goto)
                                        return sub;
                                continue;
                        }
                        }
                }
                return {Outcome::Flow::Return, ""};
        }

        // A base chain: its policy applies to what falls through.
        Outcome run_base(const NftChain& chain) {
                Outcome o = run(chain, 0);
                if (o.flow == Outcome::Flow::Return && chain.policy_drop)
                        return drop(chain_label(chain) + " (" + hook_name(*chain.hook) +
                                            " hook) has policy drop: it",
                                    "");
                return o;
        }

private:
        static const char* verdict_word(NftVerdict::Kind kind) {
                return kind == NftVerdict::Kind::Reject ? "reject" : "drop";
        }
        Outcome drop(const std::string& at, const std::string& rule_text) {
                std::string s = at + (uncertain_ ? " may drop " : " drops ") + packet_.description;
                if (uncertain_)
                        s += " (unless an earlier rule natd cannot evaluate accepts it)";
                if (!rule_text.empty())
                        s += ": " + rule_text;
                return {Outcome::Flow::Drop, s};
        }
        const NftChain* find(const NftChain& from, const std::string& name) const {
                for (const auto& c : chains_)
                        if (c.family == from.family && c.table == from.table && c.name == name)
                                return &c;
                return nullptr;
        }

        const std::vector<NftChain>& chains_;
        const NatPacket& packet_;
        std::vector<std::string>& maybe_;
        bool uncertain_ = false;
};

std::string position_of(const std::string& sentence) {
        // "table T chain C rule handle N (drop)" or "... has policy drop": the
        // part before the verb identifies the position.
        for (const char* verb : {" drops ", " may drop "})
                if (auto at = sentence.find(verb); at != std::string::npos)
                        return sentence.substr(0, at);
        return sentence;
}

}  // namespace

std::vector<NatPacket> nat_packets(const std::string& public_ifname,
                                   const std::string& private_ifname, const Ipv4Cidr& source) {
        const Ipv4Cidr net = source.network();
        const Ipv4Address host{net.address().host_order() + (net.prefix_len() < 31 ? 1U : 0U)};
        const std::string from = " from " + net.str();
        const uint32_t fresh = NF_CT_STATE_BIT(IP_CT_NEW);
        const uint32_t established = NF_CT_STATE_BIT(IP_CT_ESTABLISHED);
        return {
                {"new NAT traffic" + from, private_ifname, public_ifname, host, kInternet, fresh},
                {"established NAT traffic" + from, private_ifname, public_ifname, host, kInternet,
                 established},
                {"replies to " + net.str(), public_ifname, private_ifname, kInternet, host,
                 established},
        };
}

std::string describe(const NftRule& rule) {
        if (!rule.text.empty())
                return rule.text;
        std::string out;
        for (const auto& m : rule.matches)
                out += m.text + " ";
        switch (rule.verdict.kind) {
        case NftVerdict::Kind::Continue:
                if (!out.empty())
                        out.pop_back();
                return out;
        case NftVerdict::Kind::Accept:
                return out + "accept";
        case NftVerdict::Kind::Drop:
                return out + "drop";
        case NftVerdict::Kind::Reject:
                return out + "reject";
        case NftVerdict::Kind::Return:
                return out + "return";
        case NftVerdict::Kind::Jump:
                return out + "jump " + rule.verdict.chain;
        case NftVerdict::Kind::Goto:
                return out + "goto " + rule.verdict.chain;
        }
        return out;
}

std::vector<std::string> find_blockers(const std::vector<NftChain>& chains,
                                       const std::vector<NatPacket>& packets) {
        std::vector<std::string> found;
        std::set<std::string> positions;
        auto add = [&](const std::string& sentence) {
                if (positions.insert(position_of(sentence)).second)
                        found.push_back(sentence);
        };
        for (const auto& packet : packets) {
                for (NftHook hook : {NftHook::Prerouting, NftHook::Forward, NftHook::Postrouting}) {
                        NatPacket seen = packet;
                        if (hook == NftHook::Prerouting)
                                seen.output.clear();  // not routed yet
                        for (const auto& chain : chains) {
                                if (chain.hook != hook)
                                        continue;
                                std::vector<std::string> maybe;
                                Outcome o = Evaluator(chains, seen, maybe).run_base(chain);
                                for (const auto& m : maybe)
                                        add(m);
                                if (o.flow == Outcome::Flow::Drop)
                                        add(o.blocker);
                        }
                }
        }
        return found;
}

}  // namespace natd
