// keepalived's last word, kept in a file: natd-ctl ha notify writes it
// before it tells natd, so that a natd that was not listening (starting, or
// restarted while keepalived ran on) still learns its role when it starts.
// /run is emptied at boot: the file never outlives keepalived's state.
#pragma once

#include <filesystem>
#include <optional>

#include "ha-role.hpp"
#include "result.hpp"

namespace natd {

std::filesystem::path vrrp_state_path(const std::filesystem::path& run_directory);
Status write_vrrp_state(const std::filesystem::path& run_directory, VrrpState state);
// nullopt: no file (keepalived has not said anything since boot).
Result<std::optional<VrrpState>> read_vrrp_state(const std::filesystem::path& run_directory);

}  // namespace natd
