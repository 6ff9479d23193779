// net.ipv4.ip_forward of natd's network namespace. /proc/sys is the only
// interface the kernel offers for writing it (RTM_GETNETCONF only reads).
#pragma once

#include "result.hpp"

namespace natd {

Status set_ipv4_forwarding(bool enabled);
Result<bool> read_ipv4_forwarding();

}  // namespace natd
