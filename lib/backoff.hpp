// Exponential backoff with jitter, for everything natd retries (a failed
// action, a failed re-read of the kernel's tables). Pure: the randomness
// comes in as an argument.
#pragma once

#include <cstdint>

namespace natd {

struct BackoffPolicy {
        uint64_t min_usec = 100ULL * 1000;
        uint64_t max_usec = 30ULL * 1000 * 1000;
};

// The delay before attempt `failures` + 1: min·2^(failures-1), capped at
// max, then spread over [½, 1½) of that by `jitter` in [0, 1), so that
// retries of many instances do not march in step.
uint64_t backoff_delay_usec(unsigned failures, double jitter, const BackoffPolicy& policy = {});

}  // namespace natd
