#include "reconciler.hpp"

#include <set>

#include <spdlog/spdlog.h>

namespace natd {

namespace {

// Observe-decide-act passes per run: the first acts, the second verifies.
// More means every pass changed something; look again shortly.
constexpr int kMaxPasses = 4;

void emit(const std::vector<LogLine>& lines) {
        for (const auto& l : lines) {
                if (l.level == LogLine::Error)
                        spdlog::error("{}", l.text);
                else if (l.level == LogLine::Warning)
                        spdlog::warn("{}", l.text);
                else
                        spdlog::info("{}", l.text);
        }
}

std::vector<std::string> diffs_of(Part part, const Verification& v) {
        switch (part) {
        case Part::Forwarding:
                return v.forwarding;
        case Part::Ruleset:
                return v.ruleset;
        case Part::Routes:
                return v.routes;
        case Part::Conntrack:
                return v.conntrack;
        case Part::Files:
                break;
        }
        return {"natd's files differ from the plan"};
}

}  // namespace

Desired desire(const Config& config, const std::vector<Link>& links, const HostFacts& facts,
               const std::map<int, NetworkdLink>& networkd_links) {
        PlanOutcome outcome = make_plan(config, links, facts);
        if (auto* waiting = std::get_if<Waiting>(&outcome))
                return {std::nullopt, std::move(waiting->reasons)};
        auto& plan = std::get<NatPlan>(outcome);
        if (plan.single_eni)
                return {Target{std::move(plan), DropinLocation{}}, {}};
        bool pinned = false;
        const auto managed = networkd_links.find(plan.private_interface.ifindex);
        for (const auto& l : links)
                if (l.ifindex == plan.private_interface.ifindex && managed != networkd_links.end())
                        pinned = managed->second.match && pins_link(*managed->second.match, l);
        DropinLocation dropin =
                route_dropin_location(plan.private_interface.name, plan.private_interface.ifindex,
                                      network_files(networkd_links), pinned);
        return {Target{std::move(plan), std::move(dropin)}, {}};
}

bool links_intact(const NatPlan& plan, const std::vector<Link>& links) {
        auto present = [&](const ResolvedInterface& i) {
                for (const auto& l : links)
                        if (l.ifindex == i.ifindex && l.name == i.name)
                                return true;
                return false;
        };
        return present(plan.public_interface) && present(plan.private_interface);
}

void Reconciler::refresh_blockers(const NatPlan& plan) {
        auto found = host_.find_blockers(plan);
        blockers_plan_ = plan;
        if (!found.ok()) {
                spdlog::warn("{}", found.error());
                return;
        }
        if (found.value() == blockers_)
                return;
        for (const auto& b : found.value())
                spdlog::warn("Foreign rule: {}; natd does not edit other tables", b);
        blockers_ = std::move(found).value();
}

void Reconciler::note_data_path(std::vector<std::string> problems) {
        if (problems == data_path_)
                return;
        for (const auto& p : problems)
                spdlog::warn("Data path: {}", p);
        if (problems.empty())
                spdlog::info("Data path: the kernel forwards NAT traffic both ways again");
        data_path_ = std::move(problems);
}

void Reconciler::note_route_warnings(std::vector<std::string> problems) {
        if (problems == route_warnings_)
                return;
        for (const auto& p : problems)
                spdlog::warn("Return route: {}", p);
        route_warnings_ = std::move(problems);
}

void Reconciler::note_conntrack_usage(uint64_t count, uint64_t max) {
        std::string warning;
        if (max != 0 && count * 100 > max * kConntrackWarnPercent)
                warning = "the conntrack table is " + std::to_string(count * 100 / max) +
                          "% full (" + std::to_string(count) + " of " + std::to_string(max) +
                          " entries): new connections fail once it is full; raise [Conntrack] "
                          "Max= or lower the timeouts";
        if (warning == conntrack_usage_warning_)
                return;
        if (warning.empty())
                spdlog::info("Conntrack: the table is below {}% full again ({} of {})",
                             kConntrackWarnPercent, count, max);
        else
                spdlog::warn("Conntrack: {}", warning);
        conntrack_usage_warning_ = std::move(warning);
}

std::vector<std::string> Reconciler::warnings() const {
        std::vector<std::string> out = route_warnings_;
        out.insert(out.end(), address_problems_.begin(), address_problems_.end());
        out.insert(out.end(), conntrack_notes_.begin(), conntrack_notes_.end());
        if (!conntrack_usage_warning_.empty())
                out.push_back(conntrack_usage_warning_);
        out.insert(out.end(), data_path_.begin(), data_path_.end());
        out.insert(out.end(), blockers_.begin(), blockers_.end());
        return out;
}

Observed Reconciler::observe(const Inputs& in, const Target* target,
                             const std::map<int, NetworkdLink>& networkd_links) {
        Observed o;
        o.ha = in.ha;
        o.now_usec = in.now_usec;
        o.jitter = in.jitter;
        o.links_synchronized = in.links_synchronized;
        o.wait_timed_out = in.wait_timed_out;
        o.last_foreign_nft = in.last_foreign_nft;
        o.networkd_reachable = host_.networkd_reachable();
        o.blockers = blockers_;
        if (target == nullptr)
                return o;
        o.kernel = host_.verify(target->plan);
        // What natd does not own (the default route, addresses, link state)
        // it can only check, the way a packet would; and only once its own
        // parts are in place: before, every lookup fails for what natd is
        // about to fix.
        if (o.kernel->ok())
                o.data_path = check_data_path(target->plan, in.links, [this](const RouteQuery& q) {
                        return host_.lookup_route(q);
                });
        const auto files = target_files(*target);
        o.files_current = host_.files_in_sync(files);
        o.dropin_current = target->dropin.path.empty() || host_.file_current(files.back());
        if (auto it = networkd_links.find(target->plan.private_interface.ifindex);
            !target->plan.single_eni && it != networkd_links.end())
                o.networkd_link = it->second;
        for (const auto& l : in.links)
                if (l.ifindex == target->plan.private_interface.ifindex)
                        o.private_has_ipv4 = !l.ipv4.empty();
        return o;
}

Decision Reconciler::run(const Inputs& in) {
        bool rescan = in.rescan_blockers;
        for (int pass = 1;; ++pass) {
                const auto networkd_links = host_.networkd_links();
                desired_ = desire(in.config, in.links, in.facts, networkd_links);
                const bool intact =
                        memory_.applied && links_intact(memory_.applied->plan, in.links);
                // Decide on the target as reconcile() will see it: a new
                // desired target replaces the applied one.
                const Target* target = check_target(desired_, memory_, intact);
                // Foreign rules are judged against this plan's NAT traffic:
                // read again when nftables changed or the plan did.
                if (target != nullptr &&
                    (rescan || !blockers_plan_ || *blockers_plan_ != target->plan)) {
                        refresh_blockers(target->plan);
                        rescan = false;
                }
                Observed o = observe(in, target, networkd_links);
                o.applied_links_intact = intact;
                if (o.kernel) {
                        verification_ = o.kernel;
                        if (o.kernel->ok())
                                note_data_path(o.data_path);
                        if (target->plan.address_problems != address_problems_) {
                                for (const auto& p : target->plan.address_problems)
                                        spdlog::warn("SNAT pool: {}", p);
                                address_problems_ = target->plan.address_problems;
                        }
                        std::vector<std::string> routes = target->plan.route_problems;
                        routes.insert(routes.end(), o.kernel->route_conflicts.begin(),
                                      o.kernel->route_conflicts.end());
                        note_route_warnings(std::move(routes));
                        if (o.kernel->conntrack_notes != conntrack_notes_) {
                                for (const auto& n : o.kernel->conntrack_notes)
                                        spdlog::warn("Conntrack: {}", n);
                                conntrack_notes_ = o.kernel->conntrack_notes;
                        }
                }
                Decision d = reconcile(desired_, o, memory_, options_);
                memory_ = d.memory;
                emit(d.log);
                if (memory_.applied) {
                        files_.clear();
                        for (const auto& f : target_files(*memory_.applied))
                                files_.push_back(host_.on_disk(f.path));
                }
                if (d.actions.empty())
                        return d;
                act(d.actions, *check_target(desired_, memory_, intact), in);
                if (pass == kMaxPasses) {
                        spdlog::warn("Still changing after {} passes; looking again shortly",
                                     kMaxPasses);
                        d.actions.clear();
                        d.report = {ManagerState::Configuring, "Configuring", {}, ""};
                        d.wake_usec = in.now_usec + options_.retry_min_usec;
                        return d;
                }
        }
}

void Reconciler::act(const std::vector<Action>& actions, const Target& target, const Inputs& in) {
        std::set<Part> failed;
        for (const auto& action : actions) {
                const Part part = part_of(action);
                if (failed.contains(part)) {
                        // What depends on a failed step waits for its retry.
                        record_skipped(memory_, action);
                        continue;
                }
                const Status s = execute(action, target);
                if (!s.ok()) {
                        spdlog::error("Could not {}: {}", describe(action), s.error());
                        record_failure(memory_, action, s.error(), in.now_usec, in.jitter,
                                       options_);
                        failed.insert(part);
                        continue;
                }
                const bool repair = memory_.part(part).undone;
                record_success(memory_, action);
                if (repair)
                        spdlog::warn("Found {}; restored {} (repair {})",
                                     join(verification_ ? diffs_of(part, *verification_)
                                                        : std::vector<std::string>{}),
                                     part_name(part), memory_.repairs);
        }
}

Status Reconciler::execute(const Action& action, const Target& target) {
        if (std::holds_alternative<SetForwarding>(action))
                return host_.set_forwarding(target.plan);
        if (std::holds_alternative<SetConntrack>(action))
                return host_.set_conntrack(target.plan.conntrack);
        if (std::holds_alternative<ReplaceTable>(action))
                return host_.replace_ruleset(target.plan.ruleset);
        if (const auto* routes = std::get_if<SyncRoutes>(&action))
                return host_.sync_own_routes(routes->wanted);
        if (std::holds_alternative<WriteFiles>(action)) {
                auto synced = host_.sync_files(target_files(target));
                if (!synced.ok())
                        return synced.failure();
                for (const auto& p : synced.value().written)
                        spdlog::info("Wrote {}", host_.on_disk(p));
                for (const auto& p : synced.value().removed)
                        spdlog::info("Removed {}, which natd no longer needs", host_.on_disk(p));
                return Ok{};
        }
        const auto& reload = std::get<ReloadNetworkd>(action);
        spdlog::info("Asking systemd-networkd to reload");
        host_.reload_networkd([this, generation = reload.generation](const Status& s) {
                if (!s.ok())
                        spdlog::warn("{}; natd installs the return routes itself", s.error());
                record_networkd_reload(memory_, generation, s.ok());
                if (on_async_change_)
                        on_async_change_();
        });
        return Ok{};
}

}  // namespace natd
