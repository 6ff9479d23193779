// Writes real kernel netlink messages as seeds for the netlink fuzz targets:
// the replies natd's own requests get (RTM_GETLINK, RTM_GETADDR,
// RTM_GETROUTE dumps; GETTABLE/GETCHAIN/GETRULE of natd's nftables table)
// and the nftables notifications natd's table replacement causes. Run once
// as root in a throwaway network namespace that capture-seeds.sh sets up:
//   capture-netlink OUTDIR
// installs natd's ruleset there (lib/nft-ruleset.hpp, as natd would), then
// writes OUTDIR/TARGET/KIND-NNN, one message per file, and OUTDIR/TARGET/
// KIND-dump, a whole reply as natd's socket loop receives it.
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>

#include "netlink-socket.hpp"
#include "nft-ruleset.hpp"
#include "ruleset-plan.hpp"

namespace {

// Seeds stay small: a dump is cut at the message that would pass this.
constexpr size_t kMaxDumpBytes = size_t{16} * 1024;
// Per kind: enough variety, not the whole table.
constexpr int kMaxMessagesPerKind = 12;

std::filesystem::path out_root;

void write_file(const std::filesystem::path& path, const char* data, size_t size) {
        std::filesystem::create_directories(path.parent_path());
        std::ofstream(path, std::ios::binary).write(data, static_cast<std::streamsize>(size));
}

// Receives the reply to the request last sent on `nl`, up to the NLMSG_DONE
// that ends a dump or the NLMSG_ERROR that acknowledges (or refuses) any
// other request, and writes it.
void save_reply(mnl_socket* nl, const std::string& target, const std::string& kind) {
        std::array<char, 65536> buf{};
        std::string whole;
        int count = 0;
        for (bool done = false; !done;) {
                const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
                if (n <= 0) {
                        std::perror("recv");
                        return;
                }
                int left = static_cast<int>(n);
                for (const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
                     mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
                        if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) {
                                done = true;
                                break;
                        }
                        const auto* bytes = reinterpret_cast<const char*>(nlh);
                        if (count < kMaxMessagesPerKind) {
                                char name[64];
                                std::snprintf(name, sizeof name, "%s-%03d", kind.c_str(), count);
                                write_file(out_root / target / name, bytes, nlh->nlmsg_len);
                        }
                        ++count;
                        if (whole.size() + MNL_ALIGN(nlh->nlmsg_len) <= kMaxDumpBytes)
                                whole.append(bytes, MNL_ALIGN(nlh->nlmsg_len));
                }
        }
        if (count > 1)
                write_file(out_root / target / (kind + "-dump"), whole.data(), whole.size());
        std::printf("%s/%s: %d messages\n", target.c_str(), kind.c_str(), count);
}

mnl_socket* open_socket(int bus, unsigned groups) {
        mnl_socket* nl = mnl_socket_open(bus);
        if (nl == nullptr || mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
                std::perror("netlink socket");
                std::exit(1);
        }
        return nl;
}

void rtnl_dump(uint16_t type, uint8_t family, const std::string& target, const std::string& kind) {
        mnl_socket* nl = open_socket(NETLINK_ROUTE, 0);
        std::array<char, 1024> buf{};
        auto* nlh = mnl_nlmsg_put_header(buf.data());
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        nlh->nlmsg_seq = static_cast<uint32_t>(time(nullptr));
        auto* family_header =
                static_cast<rtgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
        family_header->rtgen_family = family;
        mnl_socket_sendto(nl, nlh, nlh->nlmsg_len);
        save_reply(nl, target, kind);
        mnl_socket_close(nl);
}

// The three requests read_ruleset() sends, for natd's table.
void nft_read_back(const std::string& table) {
        mnl_socket* nl = open_socket(NETLINK_NETFILTER, 0);
        std::array<char, 4096> buf{};
        const auto seq = static_cast<uint32_t>(time(nullptr));

        nftnl_table* t = nftnl_table_alloc();
        nftnl_table_set_str(t, NFTNL_TABLE_NAME, table.c_str());
        auto* nlh =
                nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETTABLE, NFPROTO_IPV4, NLM_F_ACK, seq);
        nftnl_table_nlmsg_build_payload(nlh, t);
        nftnl_table_free(t);
        mnl_socket_sendto(nl, nlh, nlh->nlmsg_len);
        save_reply(nl, "nft-ruleset", "table");

        nftnl_chain* c = nftnl_chain_alloc();
        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table.c_str());
        nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETCHAIN, NFPROTO_IPV4, NLM_F_DUMP,
                                    seq + 1);
        nftnl_chain_nlmsg_build_payload(nlh, c);
        nftnl_chain_free(c);
        mnl_socket_sendto(nl, nlh, nlh->nlmsg_len);
        save_reply(nl, "nft-ruleset", "chains");

        nftnl_rule* r = nftnl_rule_alloc();
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table.c_str());
        nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP, seq + 2);
        nftnl_rule_nlmsg_build_payload(nlh, r);
        nftnl_rule_free(r);
        mnl_socket_sendto(nl, nlh, nlh->nlmsg_len);
        save_reply(nl, "nft-ruleset", "rules");
        mnl_socket_close(nl);
}

// What natd's nftables monitor receives while natd replaces its table:
// NEWTABLE, NEWCHAIN, NEWRULE ... and the NEWGEN that names natd.
void nft_events_during(const natd::RulesetPlan& plan, natd::NetlinkSocket& nfnl) {
        mnl_socket* monitor = open_socket(NETLINK_NETFILTER, 0);
        int group = NFNLGRP_NFTABLES;
        mnl_socket_setsockopt(monitor, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group));
        if (auto s = natd::replace_ruleset(nfnl, plan); !s.ok()) {
                std::fprintf(stderr, "replace_ruleset: %s\n", s.failure().message.c_str());
                std::exit(1);
        }
        std::array<char, 65536> buf{};
        std::string whole;
        int count = 0;
        int newgen = 0;
        // The notifications are queued by now; read what is there.
        for (;;) {
                const ssize_t n =
                        recv(mnl_socket_get_fd(monitor), buf.data(), buf.size(), MSG_DONTWAIT);
                if (n <= 0)
                        break;
                int left = static_cast<int>(n);
                for (const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
                     mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
                        const auto* bytes = reinterpret_cast<const char*>(nlh);
                        const bool is_gen = (nlh->nlmsg_type & 0xff) == NFT_MSG_NEWGEN;
                        char name[64];
                        if (is_gen)
                                std::snprintf(name, sizeof name, "newgen-%03d", newgen++);
                        else
                                std::snprintf(name, sizeof name, "event-%03d", count);
                        if (is_gen || count < kMaxMessagesPerKind)
                                write_file(out_root / "nft-events" / name, bytes, nlh->nlmsg_len);
                        ++count;
                        if (whole.size() + MNL_ALIGN(nlh->nlmsg_len) <= kMaxDumpBytes)
                                whole.append(bytes, MNL_ALIGN(nlh->nlmsg_len));
                }
        }
        write_file(out_root / "nft-events" / "transaction-dump", whole.data(), whole.size());
        std::printf("nft-events: %d messages\n", count);
        mnl_socket_close(monitor);
}

}  // namespace

int main(int argc, char** argv) {
        if (argc != 4) {
                std::fprintf(stderr, "usage: %s OUTDIR PUBLIC-IFNAME PRIVATE-IFNAME\n", argv[0]);
                return 2;
        }
        out_root = argv[1];
        natd::NatRulesetInput input;
        input.public_ifname = argv[2];
        input.private_ifname = argv[3];
        input.source_cidrs = {natd::Ipv4Cidr::parse("10.0.1.0/24").value(),
                              natd::Ipv4Cidr::parse("10.0.2.0/23").value()};
        input.clamp_mss = {natd::ClampMss::Mode::Auto, 0};
        input.port_range = natd::PortRange{1024, 65535};
        auto nfnl = natd::NetlinkSocket::open(NETLINK_NETFILTER, false);
        if (!nfnl.ok()) {
                std::fprintf(stderr, "%s\n", nfnl.failure().message.c_str());
                return 1;
        }
        const auto plan = natd::make_nat_ruleset(input);
        nft_events_during(plan, nfnl.value());
        nft_read_back(plan.table);

        rtnl_dump(RTM_GETLINK, AF_UNSPEC, "link-message", "links");
        rtnl_dump(RTM_GETADDR, AF_UNSPEC, "link-message", "addresses");
        rtnl_dump(RTM_GETROUTE, AF_INET, "route-message", "routes");
        return 0;
}
