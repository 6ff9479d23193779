#include "metrics-textfile.hpp"

#include "atomic-file.hpp"
#include "dir-fd.hpp"

namespace natd {

Status write_metrics_textfile(const std::filesystem::path& directory, std::string_view text) {
        auto dir = DirFd::open(directory);
        if (!dir.ok())
                return dir.failure();
        remove_stale_temporaries(dir.value(), kMetricsTextfileName);
        auto written = write_file_atomically(dir.value(), kMetricsTextfileName, text, 0644);
        if (!written.ok())
                return written.failure();
        return Ok{};
}

}  // namespace natd
