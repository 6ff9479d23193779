// The real Host: netlink through KernelCommitter, files through the
// FileRegistry under --root, networkd through its state files and D-Bus.
#pragma once

#include <memory>

#include "host.hpp"
#include "networkd-client.hpp"

namespace natd {

class SystemHost final : public Host {
public:
        // `bus` returns the system bus, opening it on first need (it may start
        // after natd), or null when there is none: networkd is then
        // unreachable.
        SystemHost(KernelCommitter& committer, std::filesystem::path root,
                   std::function<sd_bus*()> bus)
            : committer_(committer), root_(std::move(root)), registry_(root_),
              bus_(std::move(bus)) {}

        Status set_forwarding(const NatPlan& plan) override;
        Status set_conntrack(const ConntrackPlan& plan) override;
        Status replace_ruleset(const RulesetPlan& ruleset) override;
        Status sync_own_routes(const std::vector<RoutePlan>& wanted) override;
        Verification verify(const NatPlan& plan) override;
        RouteAnswer lookup_route(const RouteQuery& query) override;
        Result<std::vector<std::string>> find_blockers(const NatPlan& plan) override;

        Result<FileRegistry::SyncResult>
        sync_files(const std::vector<PersistedFile>& files) override;
        bool files_in_sync(const std::vector<PersistedFile>& files) override;
        bool file_current(const PersistedFile& file) override;
        [[nodiscard]] std::string on_disk(const std::filesystem::path& path) const override;

        std::map<int, NetworkdLink> networkd_links() override;
        bool networkd_reachable() override { return bus_() != nullptr; }
        void reload_networkd(std::function<void(const Status&)> done) override;

private:
        KernelCommitter& committer_;
        std::filesystem::path root_;
        FileRegistry registry_;
        std::function<sd_bus*()> bus_;
};

}  // namespace natd
