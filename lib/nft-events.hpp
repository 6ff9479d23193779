// nftables change notifications (NFNLGRP_NFTABLES). Every committed
// transaction ends with NFT_MSG_NEWGEN naming the process that made it, so
// natd can say who keeps undoing its table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

struct nlmsghdr;

namespace natd {

struct NftTransaction {
        uint32_t pid = 0;
        std::string process;  // comm of the committing process, e.g. "nft", "iptables-nft-r"
};

// nullopt for every message but NFT_MSG_NEWGEN.
std::optional<NftTransaction> parse_nft_transaction(const nlmsghdr* nlh);

}  // namespace natd
