// The nftables read-back (lib/nft-ruleset.hpp): the replies to
// read_ruleset()'s GETTABLE, GETCHAIN and GETRULE requests, parsed by
// libnftnl and read into KernelRuleset. The kernel answers each request
// with messages of its own type, but natd's callbacks do not check the type,
// so every message goes through all three parsers. The table natd reads is
// "natd", as in the seeds captured from the kernel.
#include <cstddef>
#include <cstdint>

#include "fuzz-input.hpp"
#include "nft-ruleset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
        const std::string table = "natd";
        natd::KernelRuleset kernel;
        natd::fuzz::for_each_netlink_message(data, size, [&](const nlmsghdr* nlh) {
                (void)natd::parse_table_message(nlh, kernel);
                (void)natd::parse_chain_message(nlh, table, kernel);
                (void)natd::parse_rule_message(nlh, table, kernel);
        });
        return 0;
}
