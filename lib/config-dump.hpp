// natd --dump-config: the effective configuration, every key with its value
// and where that value came from, as a natd.conf that reads back as the same
// configuration (like systemd-analyze cat-config, but merged).
#pragma once

#include <string>

#include "config.hpp"

namespace natd {

// Pure: `load` as natd.conf text, grouped by section in the schema's order.
// Above each assignment, a comment with where it came from:
// "# /etc/natd/natd.conf:7" or "# default".
std::string format_config_dump(const ConfigLoad& load);

}  // namespace natd
