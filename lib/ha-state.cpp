#include "ha-state.hpp"

#include <cerrno>
#include <string>

#include "atomic-file.hpp"
#include "read-file.hpp"

namespace natd {

std::filesystem::path vrrp_state_path(const std::filesystem::path& run_directory) {
        return run_directory / "vrrp-state";
}

Status write_vrrp_state(const std::filesystem::path& run_directory, VrrpState state) {
        auto written = write_file_atomically(vrrp_state_path(run_directory),
                                             std::string(vrrp_state_name(state)) + "\n", 0644);
        if (!written.ok())
                return written.failure();
        return Ok{};
}

Result<std::optional<VrrpState>> read_vrrp_state(const std::filesystem::path& run_directory) {
        const auto path = vrrp_state_path(run_directory);
        auto text = read_file(path, 64);
        if (!text.ok()) {
                if (text.failure().is(ENOENT))
                        return std::optional<VrrpState>{};
                return text.failure();
        }
        std::string word = text.value();
        while (!word.empty() && (word.back() == '\n' || word.back() == ' '))
                word.pop_back();
        const auto state = parse_vrrp_state(word);
        if (!state)
                return Error{path.string() + ": not a VRRP state: '" + word + "'"};
        return std::optional<VrrpState>{*state};
}

}  // namespace natd
