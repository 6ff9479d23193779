// rtnetlink link and address messages (lib/link-message.hpp), as the link
// watcher receives them: RTM_NEWLINK/DELLINK with altnames in
// IFLA_PROP_LIST, RTM_NEWADDR/DELADDR.
#include <cstddef>
#include <cstdint>

#include "fuzz-input.hpp"
#include "link-message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
        natd::fuzz::for_each_netlink_message(
                data, size, [](const nlmsghdr* nlh) { (void)natd::parse_link_event(nlh); });
        return 0;
}
