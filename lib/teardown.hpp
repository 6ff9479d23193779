// Undoing natd: for package removal (natd --teardown, natd-ctl teardown).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "handles.hpp"
#include "kernel-committer.hpp"
#include "result.hpp"

namespace natd {

// Removes natd's table, the routes natd installed, the files natd wrote
// (drop-ins, the sysctl file) and its state under `root`, and nothing else;
// when a drop-in went, asks systemd-networkd (over `bus`, if any) to reload
// so that it drops the routes it installed from it. Forwarding is left as
// it is: other services may rely on it. `removed` lists what went.
Status teardown(KernelCommitter& committer, const std::filesystem::path& root, sd_bus* bus,
                std::vector<std::string>& removed);

// The whole of `natd --teardown` (and natd-ctl's when natd is not running):
// opens what teardown() needs, logs what went, returns the exit code.
int run_teardown(const std::filesystem::path& root);

}  // namespace natd
