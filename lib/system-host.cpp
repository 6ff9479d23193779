#include "system-host.hpp"

#include "forwarding.hpp"

namespace natd {

Status SystemHost::set_conntrack(const ConntrackPlan& plan) {
        return committer_.set_conntrack(plan);
}

Status SystemHost::set_forwarding(const NatPlan& plan) {
        return committer_.set_forwarding(plan);
}

Status SystemHost::replace_ruleset(const RulesetPlan& ruleset) {
        return committer_.apply_ruleset(ruleset);
}

Status SystemHost::sync_own_routes(const std::vector<RoutePlan>& wanted) {
        return committer_.sync_own_routes(wanted);
}

Verification SystemHost::verify(const NatPlan& plan) {
        return committer_.verify(plan);
}

RouteAnswer SystemHost::lookup_route(const RouteQuery& query) {
        return committer_.lookup_route(query);
}

Result<std::vector<std::string>> SystemHost::find_blockers(const NatPlan& plan) {
        return committer_.find_blockers(plan);
}

Result<FileRegistry::SyncResult> SystemHost::sync_files(const std::vector<PersistedFile>& files) {
        return registry_.sync(files);
}

bool SystemHost::files_in_sync(const std::vector<PersistedFile>& files) {
        return registry_.in_sync(files);
}

bool SystemHost::file_current(const PersistedFile& file) {
        return registry_.holds(file);
}

std::string SystemHost::on_disk(const std::filesystem::path& path) const {
        return (root_ / path.relative_path()).string();
}

std::map<int, NetworkdLink> SystemHost::networkd_links() {
        return read_networkd_links(root_);
}

void SystemHost::reload_networkd(std::function<void(const Status&)> done) {
        NetworkdClient(bus_()).reload(std::move(done));
}

}  // namespace natd
