#include "xtables-rules.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/socket.h>

#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_state.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ip_tables.h>

#include "handles.hpp"
#include "read-file.hpp"

namespace natd {

namespace {

constexpr const char* kBuiltinChains[] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT",
                                          "POSTROUTING"};
// Targets that do something and let the packet go on through the chain.
constexpr const char* kNonTerminalTargets[] = {
        "LOG", "NFLOG",       "ULOG",     "MARK",  "CONNMARK", "TCPMSS", "CLASSIFY", "DSCP",
        "TOS", "CONNSECMARK", "SECMARK",  "CT",    "NOTRACK",  "AUDIT",  "TRACE",    "IDLETIMER",
        "LED", "TEE",         "CHECKSUM", "HMARK", "SET",      "RATEEST"};
// No real table comes near this; a bigger blob is garbage.
constexpr size_t kMaxTableBytes = 64U << 20;

// Entries and matches are XT_ALIGNed in the blob, but a copy is the one
// read that never depends on it.
template <typename T>
T copy_at(const std::vector<uint8_t>& blob, size_t offset) {
        T out{};
        std::memcpy(&out, blob.data() + offset, sizeof(T));
        return out;
}

std::string c_string(const char* chars, size_t capacity) {
        return {chars, strnlen(chars, capacity)};
}

std::string states_text(uint32_t mask) {
        static constexpr std::pair<uint32_t, const char*> kNames[] = {
                {NF_CT_STATE_INVALID_BIT, "INVALID"},
                {NF_CT_STATE_BIT(IP_CT_NEW), "NEW"},
                {NF_CT_STATE_BIT(IP_CT_RELATED), "RELATED"},
                {NF_CT_STATE_BIT(IP_CT_ESTABLISHED), "ESTABLISHED"},
                {NF_CT_STATE_UNTRACKED_BIT, "UNTRACKED"},
        };
        std::string out;
        for (const auto& [bit, name] : kNames)
                if ((mask & bit) != 0) {
                        if (!out.empty())
                                out += ',';
                        out += name;
                }
        return out;
}

NftMatch unknown(std::string text) {
        NftMatch m;
        m.text = std::move(text);
        return m;
}

NftMatch address(NftMatch::Field field, uint32_t addr_be, uint32_t mask_be, bool negate) {
        const std::string flag = field == NftMatch::Field::Source ? "-s " : "-d ";
        const uint32_t mask = Ipv4Address::from_network(mask_be).host_order();
        const auto prefix = static_cast<unsigned>(std::popcount(mask));
        const Ipv4Address addr = Ipv4Address::from_network(addr_be);
        const std::string text = (negate ? "! " : "") + flag;
        if (mask != (prefix == 0 ? 0U : ~0U << (32U - prefix)))  // 255.0.255.0
                return unknown(text + addr.str() + "/" + Ipv4Address::from_network(mask_be).str());
        NftMatch m;
        m.field = field;
        m.negate = negate;
        m.cidr = Ipv4Cidr(addr, prefix).network();
        m.text = text + m.cidr.str();
        return m;
}

std::optional<NftMatch> interface(bool input, const char* name, const unsigned char* mask,
                                  bool negate) {
        const std::string n = c_string(name, IFNAMSIZ);
        if (n.empty())
                return std::nullopt;  // any interface
        // iptables compares as many bytes as the mask covers: the name and
        // its terminating zero, or for "ens+" only "ens".
        size_t compared = 0;
        while (compared < IFNAMSIZ && mask[compared] != 0)
                ++compared;
        NftMatch m;
        m.field = input ? NftMatch::Field::InputName : NftMatch::Field::OutputName;
        m.negate = negate;
        m.prefix = compared <= n.size();
        m.name = n.substr(0, std::min(compared, n.size()));
        m.text = std::string(negate ? "! " : "") + (input ? "-i " : "-o ") + m.name +
                 (m.prefix ? "+" : "");
        return m;
}

NftMatch ct_states(uint32_t mask, bool negate, const std::string& text) {
        // Bits beyond conntrack's states are not states natd models.
        if ((mask & ~0x7FU) != 0 || mask == 0)
                return unknown(text);
        NftMatch m;
        m.field = NftMatch::Field::CtState;
        m.negate = negate;
        m.ct_states = mask;
        m.text = text;
        return m;
}

// One -m match, from its name, revision and data.
std::optional<NftMatch> match(const std::string& name, uint8_t revision,
                              const std::vector<uint8_t>& blob, size_t data, size_t size) {
        if (name == "comment")
                return std::nullopt;  // always true
        if (name == "state" && size >= sizeof(xt_state_info)) {
                const auto info = copy_at<xt_state_info>(blob, data);
                return ct_states(info.statemask, false,
                                 "-m state --state " + states_text(info.statemask));
        }
        if (name == "conntrack" && revision >= 1 && revision <= 3) {
                // Revisions 2 and 3 widened state_mask to 16 bits; revision 1
                // has the same layout up to it, with 8.
                uint16_t flags = 0;
                uint16_t invert = 0;
                uint32_t states = 0;
                if (revision == 1 && size >= sizeof(xt_conntrack_mtinfo1)) {
                        const auto info = copy_at<xt_conntrack_mtinfo1>(blob, data);
                        flags = info.match_flags;
                        invert = info.invert_flags;
                        states = info.state_mask;
                } else if (revision >= 2 && size >= sizeof(xt_conntrack_mtinfo2)) {
                        const auto info = copy_at<xt_conntrack_mtinfo2>(blob, data);
                        flags = info.match_flags;
                        invert = info.invert_flags;
                        states = info.state_mask;
                } else {
                        return unknown("-m conntrack");
                }
                // iptables' -m state is this match with the alias flag.
                const bool alias = (flags & XT_CONNTRACK_STATE_ALIAS) != 0;
                if ((flags & ~XT_CONNTRACK_STATE_ALIAS) != XT_CONNTRACK_STATE)
                        return unknown("-m conntrack (beyond --ctstate)");
                const bool negate = (invert & XT_CONNTRACK_STATE) != 0;
                const std::string text = std::string(alias ? "-m state " : "-m conntrack ") +
                                         (negate ? "! " : "") + (alias ? "--state " : "--ctstate ");
                // xt_conntrack's own bits above the states: SNAT (0x40) and
                // DNAT (0x80) are beyond natd; UNTRACKED is 0x100 here, 0x40
                // in nftables.
                if ((states & (XT_CONNTRACK_STATE_SNAT | XT_CONNTRACK_STATE_DNAT)) != 0)
                        return unknown(text + "SNAT/DNAT");
                if ((states & XT_CONNTRACK_STATE_UNTRACKED) != 0)
                        states = (states & ~XT_CONNTRACK_STATE_UNTRACKED) |
                                 NF_CT_STATE_UNTRACKED_BIT;
                return ct_states(states, negate, text + states_text(states));
        }
        if ((name == "tcp" || name == "udp") && size >= sizeof(xt_udp)) {
                // Both begin with the port ranges: say which, for the report.
                const auto ports = copy_at<xt_udp>(blob, data);
                std::string text = "-m " + name;
                auto range = [](const uint16_t* r) {
                        return r[0] == r[1] ? std::to_string(r[0])
                                            : std::to_string(r[0]) + ":" + std::to_string(r[1]);
                };
                if (ports.spts[0] != 0 || ports.spts[1] != 0xFFFF)
                        text += " --sport " + range(ports.spts);
                if (ports.dpts[0] != 0 || ports.dpts[1] != 0xFFFF)
                        text += " --dport " + range(ports.dpts);
                return unknown(text);
        }
        return unknown("-m " + name);
}

const char* protocol_name(uint16_t proto) {
        switch (proto) {
        case IPPROTO_TCP:
                return "tcp";
        case IPPROTO_UDP:
                return "udp";
        case IPPROTO_ICMP:
                return "icmp";
        default:
                return nullptr;
        }
}

// Where one -m match sits in the blob.
struct MatchRef {
        std::string name;
        uint8_t revision = 0;
        size_t data = 0;  // offset of its data
        size_t size = 0;
};

struct Entry {
        size_t offset = 0;
        size_t next = 0;  // offset of the next entry
        ipt_ip ip{};
        std::vector<MatchRef> matches;
        std::string target;
        size_t target_data = 0;  // offset of the target's data in the blob
        size_t target_size = 0;
};

static_assert(std::tuple_size_v<decltype(XtablesTable::hook_entry)> == NF_INET_NUMHOOKS);

Result<std::vector<Entry>> split_entries(const std::vector<uint8_t>& blob) {
        std::vector<Entry> entries;
        size_t offset = 0;
        auto bad = [&](const std::string& what) {
                return Error{"iptables-legacy table: malformed entry at offset " +
                                     std::to_string(offset) + ": " + what,
                             EBADMSG};
        };
        while (offset < blob.size()) {
                if (blob.size() - offset < sizeof(ipt_entry))
                        return bad("truncated");
                Entry e;
                e.offset = offset;
                const auto header = copy_at<ipt_entry>(blob, offset);
                e.ip = header.ip;
                const size_t next = header.next_offset;
                const size_t target = header.target_offset;
                if (next > blob.size() - offset || target < sizeof(ipt_entry) || target > next ||
                    next - target < sizeof(xt_entry_target))
                        return bad("offsets out of bounds");
                for (size_t m = sizeof(ipt_entry); m < target;) {
                        if (target - m < sizeof(xt_entry_match))
                                return bad("truncated match");
                        const auto mh = copy_at<xt_entry_match>(blob, offset + m);
                        const size_t size = mh.u.match_size;
                        if (size < sizeof(xt_entry_match) || size > target - m)
                                return bad("match size out of bounds");
                        e.matches.push_back({c_string(mh.u.user.name, sizeof(mh.u.user.name)),
                                             mh.u.user.revision,
                                             offset + m + sizeof(xt_entry_match),
                                             size - sizeof(xt_entry_match)});
                        m += size;
                }
                const auto t = copy_at<xt_entry_target>(blob, offset + target);
                const size_t tsize = t.u.target_size;
                if (tsize < sizeof(xt_entry_target) || tsize > next - target)
                        return bad("target size out of bounds");
                e.target = c_string(t.u.user.name, sizeof(t.u.user.name));
                e.target_data = offset + target + sizeof(xt_entry_target);
                e.target_size = tsize - sizeof(xt_entry_target);
                e.next = offset + next;
                entries.push_back(std::move(e));
                offset += next;  // > 0: next >= target_offset >= sizeof(ipt_entry)
        }
        return entries;
}

bool standard_verdict(const Entry& e, const std::vector<uint8_t>& blob, int& verdict) {
        if (!e.target.empty() || e.target_size < sizeof(int))
                return false;
        verdict = copy_at<int>(blob, e.target_data);
        return true;
}

}  // namespace

std::optional<NftMatch> xtables_match(const std::string& name, uint8_t revision,
                                      const std::vector<uint8_t>& data) {
        return match(name, revision, data, 0, data.size());
}

Result<std::vector<NftChain>> parse_xtables_filter(const XtablesTable& table) {
        auto split = split_entries(table.entries);
        if (!split.ok())
                return split.failure();
        const auto& entries = split.value();
        const auto& blob = table.entries;

        // Where chains start: built-in ones at their hook's entry, user ones
        // after their ERROR entry (a jump names the entry after it).
        std::map<size_t, std::string> chain_at;
        std::map<size_t, size_t> hook_at;  // entry offset -> hook
        for (size_t h = 0; h < table.hook_entry.size(); ++h)
                if ((table.valid_hooks & (1U << h)) != 0) {
                        chain_at[table.hook_entry[h]] = kBuiltinChains[h];
                        hook_at[table.hook_entry[h]] = h;
                }
        for (size_t i = 0; i < entries.size(); ++i)
                if (entries[i].target == XT_ERROR_TARGET && i + 1 < entries.size()) {
                        const std::string name = c_string(
                                reinterpret_cast<const char*>(blob.data() + entries[i].target_data),
                                entries[i].target_size);
                        if (name != XT_ERROR_TARGET)
                                chain_at[entries[i + 1].offset] = name;
                }

        // Every valid hook's entry and policy must be an entry of the blob,
        // or its chain would silently vanish into another.
        auto is_entry = [&](uint32_t offset) {
                return std::any_of(entries.begin(), entries.end(),
                                   [&](const Entry& e) { return e.offset == offset; });
        };
        for (size_t h = 0; h < table.hook_entry.size(); ++h)
                if ((table.valid_hooks & (1U << h)) != 0 &&
                    (!is_entry(table.hook_entry[h]) || !is_entry(table.underflow[h])))
                        return Error{std::string("iptables-legacy table: chain ") +
                                             kBuiltinChains[h] + " starts or ends between entries",
                                     EBADMSG};
        std::vector<NftChain> chains;
        for (size_t i = 0; i < entries.size(); ++i) {
                const Entry& e = entries[i];
                if (auto c = chain_at.find(e.offset); c != chain_at.end()) {
                        NftChain chain;
                        chain.family = kLegacyFamily;
                        chain.table = "filter";
                        chain.name = c->second;
                        if (auto h = hook_at.find(e.offset); h != hook_at.end())
                                chain.hook = h->second == NF_INET_FORWARD ? NftHook::Forward
                                                                          : NftHook::Other;
                        chains.push_back(std::move(chain));
                }
                if (e.target == XT_ERROR_TARGET)
                        continue;  // a chain's head, or the table's end
                if (chains.empty())
                        return Error{"iptables-legacy table: a rule outside any chain", EBADMSG};
                NftChain& chain = chains.back();
                int verdict = 0;
                const bool standard = standard_verdict(e, blob, verdict);
                // A built-in chain ends in its policy; a user chain in a
                // return before the next chain's head.
                if (chain.hook) {
                        bool is_policy = false;
                        for (size_t h = 0; h < table.underflow.size(); ++h)
                                is_policy = is_policy || ((table.valid_hooks & (1U << h)) != 0 &&
                                                          table.underflow[h] == e.offset);
                        if (is_policy) {
                                chain.policy_drop = standard && verdict == -NF_DROP - 1;
                                continue;
                        }
                } else if (i + 1 < entries.size() && entries[i + 1].target == XT_ERROR_TARGET &&
                           e.matches.empty() && standard && verdict == XT_RETURN) {
                        continue;
                }

                NftRule rule;
                rule.handle = chain.rules.size() + 1;
                const ipt_ip& ip = e.ip;
                if (ip.smsk.s_addr != 0 || (ip.invflags & IPT_INV_SRCIP) != 0)
                        rule.matches.push_back(address(NftMatch::Field::Source, ip.src.s_addr,
                                                       ip.smsk.s_addr,
                                                       (ip.invflags & IPT_INV_SRCIP) != 0));
                if (ip.dmsk.s_addr != 0 || (ip.invflags & IPT_INV_DSTIP) != 0)
                        rule.matches.push_back(address(NftMatch::Field::Destination, ip.dst.s_addr,
                                                       ip.dmsk.s_addr,
                                                       (ip.invflags & IPT_INV_DSTIP) != 0));
                if (auto m = interface(true, ip.iniface, ip.iniface_mask,
                                       (ip.invflags & IPT_INV_VIA_IN) != 0))
                        rule.matches.push_back(std::move(*m));
                if (auto m = interface(false, ip.outiface, ip.outiface_mask,
                                       (ip.invflags & IPT_INV_VIA_OUT) != 0))
                        rule.matches.push_back(std::move(*m));
                if (ip.proto != 0) {
                        const char* name = protocol_name(ip.proto);
                        rule.matches.push_back(unknown(
                                std::string((ip.invflags & IPT_INV_PROTO) != 0 ? "! " : "") +
                                "-p " + (name ? name : std::to_string(ip.proto))));
                }
                if ((ip.flags & IPT_F_FRAG) != 0)
                        rule.matches.push_back(
                                unknown((ip.invflags & IPT_INV_FRAG) != 0 ? "! -f" : "-f"));
                for (const auto& ref : e.matches)
                        if (auto m = match(ref.name, ref.revision, blob, ref.data, ref.size))
                                rule.matches.push_back(std::move(*m));

                std::string target_text;
                if (standard) {
                        if (verdict == -NF_ACCEPT - 1) {
                                rule.verdict.kind = NftVerdict::Kind::Accept;
                                target_text = "-j ACCEPT";
                        } else if (verdict == -NF_DROP - 1) {
                                rule.verdict.kind = NftVerdict::Kind::Drop;
                                target_text = "-j DROP";
                        } else if (verdict == XT_RETURN) {
                                rule.verdict.kind = NftVerdict::Kind::Return;
                                target_text = "-j RETURN";
                        } else if (verdict >= 0 && static_cast<size_t>(verdict) == e.next) {
                                // No target: counts and goes on.
                        } else if (auto to = chain_at.find(static_cast<size_t>(verdict));
                                   verdict >= 0 && to != chain_at.end()) {
                                const bool go = (ip.flags & IPT_F_GOTO) != 0;
                                rule.verdict.kind =
                                        go ? NftVerdict::Kind::Goto : NftVerdict::Kind::Jump;
                                rule.verdict.chain = to->second;
                                target_text = (go ? "-g " : "-j ") + to->second;
                        } else {
                                target_text =
                                        verdict == -NF_QUEUE - 1
                                                ? "-j NFQUEUE"
                                                : "-j (verdict " + std::to_string(verdict) + ")";
                                rule.matches.push_back(unknown(target_text));
                                rule.verdict.kind = NftVerdict::Kind::Drop;
                        }
                } else if (e.target == "REJECT") {
                        rule.verdict.kind = NftVerdict::Kind::Reject;
                        target_text = "-j REJECT";
                } else if (std::find_if(std::begin(kNonTerminalTargets),
                                        std::end(kNonTerminalTargets), [&](const char* t) {
                                                return e.target == t;
                                        }) != std::end(kNonTerminalTargets)) {
                        target_text = "-j " + e.target;
                } else {
                        // DNAT, NFQUEUE, a target natd does not know: it may
                        // take the packet away.
                        target_text = "-j " + e.target;
                        rule.matches.push_back(unknown(target_text));
                        rule.verdict.kind = NftVerdict::Kind::Drop;
                }

                rule.text = "-A " + chain.name;
                for (const auto& m : rule.matches)
                        if (m.text != target_text)
                                rule.text += " " + m.text;
                if (!target_text.empty())
                        rule.text += " " + target_text;
                chain.rules.push_back(std::move(rule));
        }
        return chains;
}

Result<std::optional<XtablesTable>> read_xtables_filter(const std::filesystem::path& names_file) {
        auto names = read_file(names_file, 4096);
        if (!names.ok()) {
                if (names.failure().is(ENOENT))
                        return std::optional<XtablesTable>{};  // no x_tables in this kernel
                return names.failure();
        }
        std::istringstream lines(names.value());
        bool present = false;
        for (std::string line; std::getline(lines, line);)
                present = present || line == "filter";
        if (!present)
                return std::optional<XtablesTable>{};

        // Any IPv4 socket reaches x_tables' getsockopt; it needs CAP_NET_ADMIN.
        UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (fd.get() < 0)
                return errno_error("open a socket to read", "iptables-legacy's filter table",
                                   errno);
        // The table may change between the two calls (EAGAIN): read again.
        for (int attempt = 0; attempt < 5; ++attempt) {
                ipt_getinfo info{};
                std::strncpy(info.name, "filter", sizeof(info.name) - 1);
                socklen_t len = sizeof(info);
                if (getsockopt(fd.get(), IPPROTO_IP, IPT_SO_GET_INFO, &info, &len) < 0) {
                        if (errno == ENOENT)
                                return std::optional<XtablesTable>{};  // gone meanwhile
                        return errno_error("read", "iptables-legacy's filter table", errno);
                }
                if (info.size > kMaxTableBytes)
                        return Error{"iptables-legacy's filter table is larger than 64 MiB", EFBIG};
                std::vector<uint8_t> buffer(sizeof(ipt_get_entries) + info.size);
                // struct ipt_get_entries: the table's name, the size, the entries.
                constexpr std::string_view kName = "filter";
                std::memcpy(buffer.data() + offsetof(ipt_get_entries, name), kName.data(),
                            kName.size());
                std::memcpy(buffer.data() + offsetof(ipt_get_entries, size), &info.size,
                            sizeof(info.size));
                len = static_cast<socklen_t>(buffer.size());
                if (getsockopt(fd.get(), IPPROTO_IP, IPT_SO_GET_ENTRIES, buffer.data(), &len) < 0) {
                        if (errno == EAGAIN)
                                continue;
                        return errno_error("read the rules of", "iptables-legacy's filter table",
                                           errno);
                }
                XtablesTable table;
                table.valid_hooks = info.valid_hooks;
                std::copy(std::begin(info.hook_entry), std::end(info.hook_entry),
                          table.hook_entry.begin());
                std::copy(std::begin(info.underflow), std::end(info.underflow),
                          table.underflow.begin());
                table.entries.assign(buffer.begin() + sizeof(ipt_get_entries), buffer.end());
                return std::optional<XtablesTable>{std::move(table)};
        }
        return Error{"iptables-legacy's filter table kept changing while natd read it", EAGAIN};
}

Result<std::optional<std::vector<NftChain>>> read_legacy_filter_chains() {
        auto table = read_xtables_filter();
        if (!table.ok())
                return table.failure();
        if (!table.value())
                return std::optional<std::vector<NftChain>>{};
        auto chains = parse_xtables_filter(*table.value());
        if (!chains.ok())
                return chains.failure();
        return std::optional<std::vector<NftChain>>{std::move(chains).value()};
}

}  // namespace natd
