// The configuration commands natd and natd-ctl share: --check-config,
// --dump-config, and the check natd makes before it starts.
#pragma once

#include <cstdio>
#include <optional>

#include "config.hpp"

namespace natd {

// Loads the configuration. Invalid: every error on `err` ("FILE:LINE:
// message"), then "natd: configuration invalid, nothing applied", and nullopt.
std::optional<Config> load_valid_config(const ConfigLocation& where, std::FILE* err);

// natd --check-config, natd-ctl check-config: "FILE: configuration valid" on
// `out` and kExitSuccess, or the errors on `err` and kExitUsage.
int check_config(const ConfigLocation& where, std::FILE* out, std::FILE* err);

// natd --dump-config: format_config_dump() on `out` and kExitSuccess, or the
// errors on `err` and kExitUsage.
int dump_config(const ConfigLocation& where, std::FILE* out, std::FILE* err);

}  // namespace natd
