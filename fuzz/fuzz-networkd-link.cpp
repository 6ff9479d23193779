// systemd-networkd's link state files (/run/systemd/netif/links/IFINDEX),
// parsed by lib/networkd-state.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz-input.hpp"
#include "networkd-state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
        if (const auto link = natd::parse_networkd_link(natd::fuzz::as_text(data, size)))
                (void)link->configuring();
        return 0;
}
