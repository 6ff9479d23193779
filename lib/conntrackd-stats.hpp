// conntrackd's counters (conntrackd -C FILE -s), the pair's state sync as
// status and metrics show it. Pure: the text is parsed, the command is run
// by the HA controller.
#pragma once

#include <cstdint>
#include <string_view>

#include "result.hpp"

namespace natd {

struct ConntrackdStats {
        uint64_t internal_entries = 0;  // this NAT's connections, as conntrackd tracks them
        uint64_t external_entries = 0;  // the peer's, ready to commit on a takeover
        uint64_t packets_sent = 0;      // sync messages
        uint64_t packets_received = 0;
        uint64_t send_errors = 0;
        uint64_t receive_errors = 0;
        uint64_t lost_messages = 0;  // FTFW noticed a gap it could not close
        uint64_t malformed_messages = 0;

        bool operator==(const ConntrackdStats&) const = default;
};

// An error when a section or counter conntrackd 1.4 prints is missing.
Result<ConntrackdStats> parse_conntrackd_stats(std::string_view text);

}  // namespace natd
