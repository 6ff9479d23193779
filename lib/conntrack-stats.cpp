#include "conntrack-stats.hpp"

#include <cerrno>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace natd {

namespace {

constexpr const char* kStatsPath = "/proc/net/stat/nf_conntrack";

std::vector<std::string_view> fields_of(std::string_view line) {
        std::vector<std::string_view> fields;
        size_t i = 0;
        while (i < line.size()) {
                while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
                        ++i;
                const size_t start = i;
                while (i < line.size() && line[i] != ' ' && line[i] != '\t')
                        ++i;
                if (i > start)
                        fields.push_back(line.substr(start, i - start));
        }
        return fields;
}

}  // namespace

Result<ConntrackStats> parse_conntrack_stats(std::string_view text) {
        std::optional<size_t> insert_failed;
        std::optional<size_t> drop;
        size_t columns = 0;
        bool header = true;
        ConntrackStats sum;
        unsigned line_number = 0;
        while (!text.empty()) {
                const size_t end = text.find('\n');
                const std::string_view line = text.substr(0, end);
                text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
                ++line_number;
                const auto fields = fields_of(line);
                if (fields.empty())
                        continue;
                if (header) {
                        for (size_t i = 0; i < fields.size(); ++i) {
                                if (fields[i] == "insert_failed")
                                        insert_failed = i;
                                else if (fields[i] == "drop")
                                        drop = i;
                        }
                        if (!insert_failed || !drop)
                                return Error{std::string(kStatsPath) +
                                                     ": the header names no insert_failed or "
                                                     "drop column",
                                             EINVAL};
                        columns = fields.size();
                        header = false;
                        continue;
                }
                if (fields.size() != columns)
                        return Error{std::string(kStatsPath) + ":" + std::to_string(line_number) +
                                             ": " + std::to_string(fields.size()) +
                                             " columns, the header has " + std::to_string(columns),
                                     EINVAL};
                uint64_t values[2] = {};
                const size_t wanted[2] = {*insert_failed, *drop};
                for (size_t k = 0; k < 2; ++k) {
                        const std::string_view f = fields[wanted[k]];
                        const auto [ptr, err] =
                                std::from_chars(f.data(), f.data() + f.size(), values[k], 16);
                        if (err != std::errc{} || ptr != f.data() + f.size())
                                return Error{std::string(kStatsPath) + ":" +
                                                     std::to_string(line_number) + ": '" +
                                                     std::string(f) + "' is not hexadecimal",
                                             EINVAL};
                }
                sum.insert_failed += values[0];
                sum.drop += values[1];
        }
        if (header)
                return Error{std::string(kStatsPath) + ": empty", EINVAL};
        return sum;
}

Result<ConntrackStats> read_conntrack_stats() {
        std::ifstream f(kStatsPath);
        if (!f)
                return errno_error(std::string("read ") + kStatsPath, errno != 0 ? errno : ENOENT);
        std::ostringstream text;
        text << f.rdbuf();
        return parse_conntrack_stats(text.str());
}

}  // namespace natd
