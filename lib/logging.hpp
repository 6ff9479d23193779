// spdlog on stderr. Under systemd (JOURNAL_STREAM set) lines carry a
// "<N>" syslog priority prefix and no timestamp: the journal adds its own.
#pragma once

namespace natd {

void setup_logging(bool debug);

}  // namespace natd
