// The kernel's conntrack statistics (/proc/net/stat/nf_conntrack): one row
// per CPU of hexadecimal counters under a header naming the columns. natd
// exports two of them as metrics: insert_failed (a new connection whose
// NAT mapping clashed with one already in the table, such as two clients
// racing for one source port) and drop (a new connection dropped because
// the table was full and nothing could be evicted).
#pragma once

#include <cstdint>
#include <string_view>

#include "result.hpp"

namespace natd {

struct ConntrackStats {
        uint64_t insert_failed = 0;
        uint64_t drop = 0;

        bool operator==(const ConntrackStats&) const = default;
};

// Pure: sums the columns over every CPU's row. The columns are found by
// name in the header (their set and order differ between kernels); a
// header without them, or a row that is not hexadecimal, is an error.
Result<ConntrackStats> parse_conntrack_stats(std::string_view text);

// /proc/net/stat/nf_conntrack of natd's network namespace; an error when
// conntrack is not loaded.
Result<ConntrackStats> read_conntrack_stats();

}  // namespace natd
