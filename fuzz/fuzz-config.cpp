// natd.conf and its drop-ins (lib/config.hpp): the input is a set of files,
// cut at kSourceSeparator, parsed in order as load_config() would parse
// /etc/natd/natd.conf and then natd.conf.d/*.conf, so drop-in overrides,
// list resets and errors across files are exercised, not one file alone.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config-dump.hpp"
#include "config.hpp"
#include "fuzz-input.hpp"

namespace {

// A line no configuration file holds: "--8<--" alone, scissors.
constexpr std::string_view kSourceSeparator = "\n--8<--\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
        std::vector<natd::ConfigSource> sources;
        for (const auto piece :
             natd::fuzz::split(natd::fuzz::as_text(data, size), kSourceSeparator)) {
                std::string name = sources.empty()
                                           ? std::string("/etc/natd/natd.conf")
                                           : "/etc/natd/natd.conf.d/" +
                                                     std::to_string(sources.size()) + ".conf";
                sources.push_back({std::move(name), std::string(piece)});
        }
        const natd::ConfigLoad load = natd::parse_config(sources);
        for (const auto& e : load.errors)
                (void)e.str();
        // What `natd-ctl config` prints: every value with the line it came
        // from, so the origins the parser recorded are read back too.
        (void)natd::format_config_dump(load);
        return 0;
}
