// Process exit codes of natd and natd-ctl, documented in natd(8) and
// natd-ctl(8).
#pragma once

namespace natd {

inline constexpr int kExitSuccess = 0;
inline constexpr int kExitFailure = 1;  // timeout, apply or verification failure
inline constexpr int kExitUsage = 2;    // bad arguments or configuration

}  // namespace natd
