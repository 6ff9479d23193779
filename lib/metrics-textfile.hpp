// The file of [Metrics] TextfileDirectory=: natd.prom, for node_exporter's
// textfile collector, which reads every *.prom in its directory at each
// scrape. Replaced atomically (atomic-file.hpp): the collector never reads
// half a file, and the temporary name (".natd.prom.natd-*") is no *.prom.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "result.hpp"

namespace natd {

inline constexpr const char* kMetricsTextfileName = "natd.prom";

// How often natd rewrites the file (and retries what failed: the file,
// binding Listen=). node_exporter is scraped every 15 s to 1 min; 15 s
// keeps the file's counters at most one scrape old, and writes only when
// a counter moved (an unchanged file is left alone).
inline constexpr uint64_t kMetricsIntervalUsec = 15'000'000;

// Writes `text` as natd.prom in `directory`, which must exist: natd does
// not create node_exporter's directory. Removes what an interrupted write
// left. An error names the path.
Status write_metrics_textfile(const std::filesystem::path& directory, std::string_view text);

}  // namespace natd
