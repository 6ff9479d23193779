#include "backoff.hpp"

#include <algorithm>

namespace natd {

uint64_t backoff_delay_usec(unsigned failures, double jitter, const BackoffPolicy& policy) {
        auto delay = static_cast<double>(policy.min_usec);
        const auto max = static_cast<double>(policy.max_usec);
        for (unsigned i = 1; i < failures && delay < max; ++i)
                delay *= 2;
        delay = std::min(delay, max);
        return static_cast<uint64_t>(delay * (0.5 + std::clamp(jitter, 0.0, 1.0)));
}

}  // namespace natd
