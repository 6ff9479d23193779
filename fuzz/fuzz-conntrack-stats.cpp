// The kernel's /proc/net/stat/nf_conntrack (lib/conntrack-stats.hpp).
#include <cstddef>
#include <cstdint>

#include "conntrack-stats.hpp"
#include "fuzz-input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
        (void)natd::parse_conntrack_stats(natd::fuzz::as_text(data, size));
        return 0;
}
