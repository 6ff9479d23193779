// rtnetlink route messages (lib/route.hpp parse_route_message): the replies
// to read_routes()'s RTM_GETROUTE dump, which verification compares with
// the plan.
#include <cstddef>
#include <cstdint>

#include "fuzz-input.hpp"
#include "route.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
        natd::fuzz::for_each_netlink_message(
                data, size, [](const nlmsghdr* nlh) { (void)natd::parse_route_message(nlh); });
        return 0;
}
