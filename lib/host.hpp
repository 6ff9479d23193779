// The seam between natd's decisions and the machine: everything natd does
// to and reads from the kernel and the file system, and its one call to
// systemd-networkd. SystemHost (system-host.cpp) is the real one; the unit
// tests drive the reconciler against a recording fake.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "data-path.hpp"
#include "file-registry.hpp"
#include "kernel-committer.hpp"
#include "networkd-state.hpp"
#include "persisted-files.hpp"
#include "plan.hpp"
#include "result.hpp"

namespace natd {

class Host {
public:
        virtual ~Host() = default;

        // The kernel.
        // net.ipv4.ip_forward and the plan's two interfaces' own switch.
        virtual Status set_forwarding(const NatPlan& plan) = 0;
        virtual Status set_conntrack(const ConntrackPlan& plan) = 0;
        virtual Status replace_ruleset(const RulesetPlan& ruleset) = 0;
        // natd's own routes (kRouteProtocol) become exactly `wanted`.
        virtual Status sync_own_routes(const std::vector<RoutePlan>& wanted) = 0;
        virtual Verification verify(const NatPlan& plan) = 0;
        // `ip route get` with an input interface: see data-path.hpp.
        virtual RouteAnswer lookup_route(const RouteQuery& query) = 0;
        virtual Result<std::vector<std::string>> find_blockers(const NatPlan& plan) = 0;

        // natd's files, recorded in /var/lib/natd/files.
        virtual Result<FileRegistry::SyncResult>
        sync_files(const std::vector<PersistedFile>& files) = 0;
        // Every file holds its planned content and no other file is recorded.
        virtual bool files_in_sync(const std::vector<PersistedFile>& files) = 0;
        virtual bool file_current(const PersistedFile& file) = 0;
        // Where a path natd persists lives on this host (under --root).
        [[nodiscard]] virtual std::string on_disk(const std::filesystem::path& path) const = 0;

        // systemd-networkd.
        virtual std::map<int, NetworkdLink> networkd_links() = 0;
        virtual bool networkd_reachable() = 0;
        // Manager.Reload(), asynchronous: `done` runs on the event loop.
        virtual void reload_networkd(std::function<void(const Status&)> done) = 0;
};

}  // namespace natd
