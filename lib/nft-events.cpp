#include "nft-events.hpp"

#include <arpa/inet.h>
#include <cstring>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "netlink-attributes.hpp"

namespace natd {

std::optional<NftTransaction> parse_nft_transaction(const nlmsghdr* nlh) {
        if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN) ||
            nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nfgenmsg)))
                return std::nullopt;
        NftTransaction t;
        for_each_attribute(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
                switch (mnl_attr_get_type(a)) {
                case NFTA_GEN_PROC_PID:
                        if (mnl_attr_get_payload_len(a) == sizeof(uint32_t))
                                t.pid = ntohl(mnl_attr_get_u32(a));
                        break;
                case NFTA_GEN_PROC_NAME: {
                        const auto* s = static_cast<const char*>(mnl_attr_get_payload(a));
                        t.process.assign(s, strnlen(s, mnl_attr_get_payload_len(a)));
                        break;
                }
                default:
                        break;
                }
        });
        return t;
}

}  // namespace natd
