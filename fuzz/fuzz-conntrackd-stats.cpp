// conntrackd's counters, `conntrackd -C FILE -s` (lib/conntrackd-stats.hpp).
#include <cstddef>
#include <cstdint>

#include "conntrackd-stats.hpp"
#include "fuzz-input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
        (void)natd::parse_conntrackd_stats(natd::fuzz::as_text(data, size));
        return 0;
}
