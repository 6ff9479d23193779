// nftables change notifications (lib/nft-events.hpp): NFT_MSG_NEWGEN with
// the committing process's pid and name, from NFNLGRP_NFTABLES.
#include <cstddef>
#include <cstdint>

#include "fuzz-input.hpp"
#include "nft-events.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
        natd::fuzz::for_each_netlink_message(
                data, size, [](const nlmsghdr* nlh) { (void)natd::parse_nft_transaction(nlh); });
        return 0;
}
