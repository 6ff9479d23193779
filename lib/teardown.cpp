#include "teardown.hpp"

#include <cstring>

#include <spdlog/spdlog.h>

#include "file-registry.hpp"
#include "instance-lock.hpp"
#include "manager-client.hpp"

namespace natd {

Status teardown(KernelCommitter& committer, const std::filesystem::path& root, sd_bus* bus,
                std::vector<std::string>& removed) {
        std::vector<std::string> errors;
        if (auto s = committer.remove_all(); !s.ok())
                errors.push_back(s.error());
        else
                removed.emplace_back("table ip natd and natd's routes");

        // The lock file goes first, so that the state directory is empty
        // once the record is gone (whoever tears down holds the lock: it
        // stays valid unlinked).
        std::error_code ec;
        std::filesystem::remove(root / std::filesystem::path(kLockFile).relative_path(), ec);
        bool dropin_removed = false;
        auto files = FileRegistry(root).remove_all();
        if (!files.ok()) {
                errors.push_back(files.error());
        } else {
                for (const auto& p : files.value().removed) {
                        removed.push_back((root / p.relative_path()).string());
                        dropin_removed = dropin_removed ||
                                         p.parent_path().parent_path() == kNetworkdConfigDir;
                }
        }

        if (dropin_removed && bus != nullptr) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message* reply = nullptr;
                const int r = sd_bus_call_method(
                        bus, "org.freedesktop.network1", "/org/freedesktop/network1",
                        "org.freedesktop.network1.Manager", "Reload", &error, &reply, "");
                // networkd not running is fine: then it installed nothing.
                if (r >= 0)
                        removed.emplace_back("systemd-networkd reloaded");
                sd_bus_message_unref(reply);
                sd_bus_error_free(&error);
        }
        return status_of(errors);
}

int run_teardown(const std::filesystem::path& root) {
        // Beside a running natd, teardown would be undone in part: natd puts
        // back its table and routes, not its files.
        auto lock = InstanceLock::acquire(root);
        if (!lock.ok()) {
                spdlog::error("Not tearing down: {}", lock.error());
                return 1;
        }
        auto committer = KernelCommitter::open();
        if (!committer.ok()) {
                spdlog::error("{}", committer.error());
                return 1;
        }
        // Without a bus there is no networkd to tell: it is optional.
        auto bus = open_system_bus();
        std::vector<std::string> removed;
        const Status s =
                teardown(committer.value(), root, bus.ok() ? bus.value().get() : nullptr, removed);
        for (const auto& r : removed)
                spdlog::info("Removed {}", r);
        if (!s.ok()) {
                spdlog::error("Teardown incomplete: {}", s.error());
                return 1;
        }
        spdlog::info("natd's table, routes, files and state are gone");
        return 0;
}

}  // namespace natd
