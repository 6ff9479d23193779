#include "reconcile.hpp"

#include <algorithm>

#include "backoff.hpp"

namespace natd {

namespace {

constexpr std::array<Part, kPartCount> kParts{Part::Forwarding, Part::Conntrack, Part::Ruleset,
                                              Part::Files, Part::Routes};

void wake_at(Decision& d, uint64_t usec) {
        if (!d.wake_usec || usec < *d.wake_usec)
                d.wake_usec = usec;
}

void reset_for_new_target(Memory& m, const Target& target, const Observed& o,
                          const ReconcileOptions& options, Decision& d) {
        // natd's drop-in stays where it was, but networkd starts reading it
        // only now (net-utils' per-ENI file replaced the shared 80-ec2.network):
        // natd cannot tell whether networkd read its drop-in with that file.
        m.dropin_unconfirmed = target.dropin.used_by_networkd && m.applied &&
                               !m.applied->dropin.used_by_networkd &&
                               m.applied->dropin.path == target.dropin.path;
        m.applied = target;
        for (auto& p : m.parts)
                p = PartMemory{};
        ++m.generation;
        m.reload_requested = false;
        m.reload_due = false;
        m.routes_lost_usec = 0;
        if (target.dropin.used_by_networkd && o.networkd_reachable) {
                m.routes = RouteOwnership::NetworkdPending;
                m.networkd_deadline_usec = o.now_usec + options.networkd_grace_usec;
        } else if (target.plan.single_eni) {
                m.routes = RouteOwnership::Natd;  // none to install
        } else {
                m.routes = RouteOwnership::Natd;
                const std::string& eni = target.plan.private_interface.name;
                std::string why;
                if (target.dropin.used_by_networkd)
                        why = "no system bus to reach systemd-networkd";
                else if (!target.dropin.shared_file.empty())
                        why = "systemd-networkd configures " + eni + " from " +
                              target.dropin.shared_file +
                              ", which is not its own (its [Match] selects other links too), "
                              "until " +
                              eni + " has a .network file of its own";
                else
                        why = "systemd-networkd does not manage " + eni;
                d.log.push_back(
                        {LogLine::Info, "Installing the return routes over netlink: " + why});
        }
}

// The guard's and the retry timer's say on a part that is not as planned.
// Returns true when an action for it goes out now.
bool may_act(Part part, Memory& m, const Observed& o, Decision& d) {
        PartMemory& pm = m.part(part);
        if (pm.failures > 0 && o.now_usec < pm.retry_at_usec) {
                wake_at(d, pm.retry_at_usec);
                return false;
        }
        if (!pm.held)
                return true;  // not there yet: a first apply or a retry
        // It held and was undone. Only the step from intact to undone counts
        // against the guard: events while it stays undone are not new undos.
        const bool newly_undone = !pm.undone;
        pm.undone = true;
        if (newly_undone ? !m.guard.allow(part_name(part), o.now_usec)
                         : m.guard.suspended(part_name(part)))
                return false;
        return true;
}

void mark_intact(Part part, Memory& m, Decision& d) {
        PartMemory& pm = m.part(part);
        if (pm.failures > 0)
                d.log.push_back({LogLine::Info, std::string(part_name(part)) + " recovered after " +
                                                        std::to_string(pm.failures) +
                                                        " failed attempt" +
                                                        (pm.failures == 1 ? "" : "s")});
        pm = PartMemory{};
        pm.held = true;
}

// A part that is not as planned, with `diffs` saying how. Emits `action`
// unless the guard or a pending retry holds it back.
void consider(Part part, const std::vector<std::string>& diffs, Action action, Memory& m,
              const Observed& o, const ReconcileOptions& options, Decision& d) {
        PartMemory& pm = m.part(part);
        if (pm.just_applied && pm.undone) {
                // A repair the kernel acknowledged, undone again before natd
                // read it back: another undo, counted against the guard like
                // the first, not a failure the retry timer would repeat
                // uncounted.
                pm.just_applied = false;
                if (m.guard.allow(part_name(part), o.now_usec))
                        d.actions.push_back(std::move(action));
                return;
        }
        if (pm.just_applied) {
                // Applied without an error, and still not as planned.
                pm.just_applied = false;
                record_failure(m, action, "Verification failed: " + join(diffs), o.now_usec,
                               o.jitter, options);
                wake_at(d, pm.retry_at_usec);
                return;
        }
        if (may_act(part, m, o, d))
                d.actions.push_back(std::move(action));
}

bool routes_by_networkd(RouteOwnership r) {
        return r == RouteOwnership::Networkd || r == RouteOwnership::NetworkdPending;
}

// The return routes, by who installs them. `waiting`: natd only guards
// what it installed itself.
void consider_routes(const Target& t, const Verification& v, bool waiting, Memory& m,
                     const Observed& o, const ReconcileOptions& options, Decision& d) {
        const auto& plan = t.plan;
        // Only natd's own routes are looked at again before a repair.
        if (m.routes != RouteOwnership::Natd && m.routes != RouteOwnership::NatdInterim)
                m.routes_lost_usec = 0;
        if (waiting && routes_by_networkd(m.routes))
                return;  // networkd's, and natd writes no files while waiting

        if (m.routes == RouteOwnership::Networkd && !v.routes_networkd.empty()) {
                // networkd drops a link's routes while it (re)configures it and
                // adds them back moments later: give it time.
                const bool busy =
                        m.reload_requested || !o.networkd_link || o.networkd_link->configuring();
                m.routes = RouteOwnership::NetworkdPending;
                m.networkd_deadline_usec = o.now_usec + (busy ? options.networkd_grace_usec
                                                              : options.networkd_settle_usec);
        }
        if (m.dropin_unconfirmed && o.networkd_link && !o.networkd_link->configuring()) {
                // networkd is done with the ENI's own file: without natd's
                // routes it read that file before natd's drop-in existed.
                m.dropin_unconfirmed = false;
                if (!v.routes_networkd.empty()) {
                        d.log.push_back(
                                {LogLine::Info, "systemd-networkd configured " +
                                                        plan.private_interface.name + " from " +
                                                        o.networkd_link->network_file +
                                                        " without natd's drop-in, written before "
                                                        "networkd used that file"});
                        m.reload_due = true;
                }
        }
        if (m.routes == RouteOwnership::NetworkdPending ||
            m.routes == RouteOwnership::NatdInterim) {
                if (v.routes_networkd.empty()) {
                        // networkd's routes are in: natd's interim ones go. A
                        // handover, not a repair.
                        m.routes = RouteOwnership::Networkd;
                        m.reload_requested = false;
                }
        }
        if (m.routes == RouteOwnership::NetworkdPending) {
                if (o.now_usec < m.networkd_deadline_usec) {
                        // natd's own routes may serve meanwhile: the NAT works.
                        if (v.routes.empty())
                                mark_intact(Part::Routes, m, d);
                        wake_at(d, m.networkd_deadline_usec);
                        return;
                }
                d.log.push_back({LogLine::Warning,
                                 "systemd-networkd did not install the return routes; natd "
                                 "installs them until it does"});
                m.routes = RouteOwnership::NatdInterim;
        }
        if (m.routes == RouteOwnership::Networkd) {
                mark_intact(Part::Routes, m, d);
                if (v.own_routes > 0)
                        d.actions.emplace_back(SyncRoutes{});
                return;
        }
        // Natd or NatdInterim: natd's routes, whoever else also installed them.
        if (v.routes.empty()) {
                m.routes_lost_usec = 0;
                mark_intact(Part::Routes, m, d);
                return;
        }
        // networkd (re)configuring the ENI (net-utils' reload) removes its
        // DHCP address, the kernel then drops every route over it, and
        // networkd removes natd's routes as foreign ones, also right after
        // natd put them back: nothing of natd's was undone, and putting them
        // back is an apply, neither a repair nor a failed one.
        PartMemory& pm = m.part(Part::Routes);
        if (o.networkd_link && !pm.undone) {
                if (!o.private_has_ipv4 || o.networkd_link->configuring()) {
                        pm.held = false;
                        pm.just_applied = false;
                        m.routes_lost_usec = 0;
                } else if (pm.held || pm.just_applied) {
                        // natd's view of the address can lag the routes by a
                        // moment: it looks again before it calls it a repair
                        // or a failed apply.
                        if (m.routes_lost_usec == 0)
                                m.routes_lost_usec = o.now_usec;
                        const uint64_t settle = m.routes_lost_usec + options.networkd_settle_usec;
                        if (o.now_usec < settle) {
                                wake_at(d, settle);
                                return;
                        }
                        m.routes_lost_usec = 0;
                }
        }
        consider(Part::Routes, v.routes, SyncRoutes{plan.routes}, m, o, options, d);
}

// At most one reload per change of the drop-in, and not while networkd is
// still configuring the link: a reload then restarts its DHCP client and the
// link drops and re-acquires its lease. The state file's change wakes natd.
void consider_reload(const Target& t, Memory& m, const Observed& o, const ReconcileOptions& options,
                     Decision& d) {
        if (!m.reload_due || m.reload_requested || !t.dropin.used_by_networkd ||
            !o.networkd_reachable)
                return;
        if (o.networkd_link && o.networkd_link->configuring())
                return;
        d.actions.emplace_back(ReloadNetworkd{m.generation});
        m.reload_due = false;
        m.dropin_unconfirmed = false;  // networkd reads it now
        m.reload_requested = true;     // until networkd answers
        if (m.routes != RouteOwnership::NatdInterim) {
                m.routes = RouteOwnership::NetworkdPending;
                m.networkd_deadline_usec = o.now_usec + options.networkd_grace_usec;
        }
}

std::string fight_report(const Memory& m, const Observed& o, const Verification& v) {
        const std::string who = o.last_foreign_nft.empty()
                                        ? ""
                                        : " (last nftables change by " + o.last_foreign_nft + ")";
        std::vector<std::string> what;
        for (const auto& part : m.guard.suspended_parts()) {
                if (part == part_name(Part::Ruleset))
                        what.push_back("table ip natd keeps being removed or altered" + who);
                else if (part == part_name(Part::Routes))
                        what.emplace_back("the return routes keep being removed");
                else if (part == part_name(Part::Forwarding))
                        what.emplace_back("net.ipv4.ip_forward keeps being turned off");
                else
                        what.push_back(part + " keeps being undone");
        }
        return "Degraded: " + join(what) +
               "; natd stopped repairing and resumes once left alone for 60s (" + join(v.all()) +
               ")";
}

std::vector<std::string> failures_of(const Memory& m) {
        std::vector<std::string> out;
        for (Part p : kParts)
                if (m.part(p).failures > 0)
                        out.push_back(m.part(p).error);
        return out;
}

void report(const Desired& desired, const Target* t, const Observed& o, Memory& m,
            const ReconcileOptions& options, Decision& d) {
        Report& r = d.report;
        r.route_owner = routes_by_networkd(m.routes) ? "networkd" : "natd";
        const auto failures = failures_of(m);
        std::string retry;
        if (!failures.empty() && d.wake_usec)
                retry = "; retrying";

        if (!desired.target) {
                r.state = ManagerState::Waiting;
                r.waiting_for = desired.waiting;
                r.status = "Waiting for " + join(desired.waiting);
                if (t != nullptr)
                        r.status += "; keeping " +
                                    (t->plan.single_eni
                                             ? summarize(t->plan)
                                             : "NAT " + t->plan.private_interface.name + " -> " +
                                                       t->plan.public_interface.name) +
                                    " in place";
                if (!failures.empty())
                        r.status += "; repair failing: " + join(failures) + retry;
        } else if (!failures.empty()) {
                r.state = ManagerState::Failed;
                r.status = "Failed: " + join(failures) + retry;
                if (options.once)
                        d.exit_code = 1;
        } else if (!o.kernel) {
                r.state = ManagerState::Configuring;
                r.status = "Configuring " + summarize(t->plan);
        } else {
                const Verification& v = *o.kernel;
                const bool suspended_undone =
                        std::any_of(kParts.begin(), kParts.end(), [&](Part p) {
                                return m.part(p).undone && m.guard.suspended(part_name(p));
                        });
                // Waiting for networkd's routes only matters while no route
                // of natd's own serves meanwhile.
                const bool routes_pending = m.routes == RouteOwnership::NetworkdPending &&
                                            !v.routes_networkd.empty() && !v.routes.empty();
                const bool all_held = m.routes_lost_usec == 0 &&
                                      std::all_of(kParts.begin(), kParts.end(),
                                                  [&](Part p) { return m.part(p).held; });
                if (suspended_undone) {
                        r.state = ManagerState::Degraded;
                        r.status = fight_report(m, o, v);
                } else if (routes_pending && v.forwarding.empty() && v.ruleset.empty()) {
                        r.state = ManagerState::Configuring;
                        r.status = "Configuring: waiting for systemd-networkd to install the "
                                   "return routes";
                } else if (!all_held) {
                        r.state = ManagerState::Configuring;
                        r.status = "Configuring " + summarize(t->plan);
                } else {
                        std::string summary = summarize(t->plan) + ", verified";
                        if (m.routes == RouteOwnership::Networkd)
                                summary += " (routes by systemd-networkd)";
                        // Applied and verified, but a return route natd must
                        // not install (it would clobber another), the kernel
                        // would not forward (a route, an address, a link natd
                        // does not own) or another table drops NAT traffic.
                        std::vector<std::string> problems = t->plan.route_problems;
                        problems.insert(problems.end(), t->plan.address_problems.begin(),
                                        t->plan.address_problems.end());
                        problems.insert(problems.end(), v.route_conflicts.begin(),
                                        v.route_conflicts.end());
                        problems.insert(problems.end(), o.data_path.begin(), o.data_path.end());
                        problems.insert(problems.end(), o.blockers.begin(), o.blockers.end());
                        // A pair: ready once this NAT's role is in place.
                        const std::optional<HaGate> ha = !t->plan.ha ? std::nullopt
                                                         : o.ha      ? o.ha
                                                                : HaGate{false, false, "starting"};
                        if (ha)
                                summary += "; high availability: " + ha->status;
                        if (ha && ha->failing)
                                problems.push_back("high availability: " + ha->status);
                        if (problems.empty() && ha && !ha->complete) {
                                r.state = ManagerState::Configuring;
                                r.status = "Configuring: " + summary;
                        } else if (problems.empty()) {
                                r.state = ManagerState::Ready;
                                r.status = "Ready: " + summary;
                        } else {
                                r.state = ManagerState::Degraded;
                                r.status = "Degraded: " + summary + "; " + join(problems);
                        }
                        // READY=1 once what natd owns is applied and verified:
                        // systemd may go on. --once promises more: NAT works.
                        d.notify_ready = !m.ever_ready;
                        m.ever_ready = true;
                        if (options.once && r.state == ManagerState::Ready)
                                d.exit_code = 0;
                }
        }
        if (!o.links_synchronized)
                r.status += "; the interface table is being re-read after a netlink overrun";
        if (o.wait_timed_out &&
            (!m.ever_ready || (options.once && r.state != ManagerState::Ready))) {
                r.state = ManagerState::Failed;
                r.status = "Timed out: " + r.status;
                d.exit_code = 1;
        }
}

}  // namespace

std::vector<PersistedFile> target_files(const Target& target) {
        std::vector<PersistedFile> files{
                sysctl_file(target.plan.conntrack, target.plan.no_redirects)};
        if (auto modprobe = modprobe_file(target.plan.conntrack))
                files.push_back(std::move(*modprobe));
        if (!target.dropin.path.empty())
                files.push_back({target.dropin.path, render_route_dropin(target.plan.routes)});
        return files;
}

const char* part_name(Part part) {
        switch (part) {
        case Part::Forwarding:
                return "forwarding";
        case Part::Ruleset:
                return "ruleset";
        case Part::Files:
                return "files";
        case Part::Routes:
                return "routes";
        case Part::Conntrack:
                return "conntrack";
        }
        return "unknown";
}

const char* route_ownership_name(RouteOwnership ownership) {
        switch (ownership) {
        case RouteOwnership::Natd:
                return "natd";
        case RouteOwnership::NetworkdPending:
                return "networkd-pending";
        case RouteOwnership::Networkd:
                return "networkd";
        case RouteOwnership::NatdInterim:
                return "natd-interim";
        }
        return "unknown";
}

const char* manager_state_name(ManagerState state) {
        switch (state) {
        case ManagerState::Waiting:
                return "waiting";
        case ManagerState::Configuring:
                return "configuring";
        case ManagerState::Ready:
                return "ready";
        case ManagerState::Degraded:
                return "degraded";
        case ManagerState::Failed:
                return "failed";
        }
        return "unknown";
}

Part part_of(const Action& action) {
        struct {
                Part operator()(const SetForwarding&) const { return Part::Forwarding; }
                Part operator()(const SetConntrack&) const { return Part::Conntrack; }
                Part operator()(const ReplaceTable&) const { return Part::Ruleset; }
                Part operator()(const WriteFiles&) const { return Part::Files; }
                // A reload is how the drop-in takes effect: it stands or falls
                // with the files.
                Part operator()(const ReloadNetworkd&) const { return Part::Files; }
                Part operator()(const SyncRoutes&) const { return Part::Routes; }
        } visitor;
        return std::visit(visitor, action);
}

std::string describe(const Action& action) {
        struct {
                std::string operator()(const SetForwarding&) const {
                        return "set net.ipv4.ip_forward";
                }
                std::string operator()(const SetConntrack&) const {
                        return "set conntrack's limits and timeouts";
                }
                std::string operator()(const ReplaceTable&) const {
                        return "replace table ip natd";
                }
                std::string operator()(const WriteFiles&) const { return "write natd's files"; }
                std::string operator()(const ReloadNetworkd&) const {
                        return "ask systemd-networkd to reload";
                }
                std::string operator()(const SyncRoutes& s) const {
                        return s.wanted.empty() ? "remove natd's interim routes"
                                                : "install " + std::to_string(s.wanted.size()) +
                                                          " return route" +
                                                          (s.wanted.size() == 1 ? "" : "s");
                }
        } visitor;
        return std::visit(visitor, action);
}

const Target* check_target(const Desired& desired, const Memory& memory, bool links_intact) {
        if (desired.target)
                return &*desired.target;
        if (memory.applied && links_intact)
                return &*memory.applied;
        return nullptr;
}

Decision reconcile(const Desired& desired, const Observed& o, Memory m,
                   const ReconcileOptions& options) {
        Decision d;
        m.repaired_now = false;
        for (const auto& part : m.guard.resume_quiet(o.now_usec))
                d.log.push_back(
                        {LogLine::Info, "Left alone long enough: natd repairs " + part + " again"});

        if (desired.target && desired.target != m.applied) {
                const auto& plan = desired.target->plan;
                std::string which = "public " + plan.public_interface.selector + " is " +
                                    plan.public_interface.name;
                if (!plan.single_eni)
                        which = "private " + plan.private_interface.selector + " is " +
                                plan.private_interface.name + ", " + which;
                d.log.push_back(
                        {LogLine::Info, "Configuring " + summarize(plan) + " (" + which + ")"});
                reset_for_new_target(m, *desired.target, o, options, d);
        }

        const Target* t = check_target(desired, m, o.applied_links_intact);
        if (t != nullptr && o.kernel) {
                const Verification& v = *o.kernel;
                const bool waiting = !desired.target;

                if (v.forwarding.empty())
                        mark_intact(Part::Forwarding, m, d);
                else
                        consider(Part::Forwarding, v.forwarding, SetForwarding{}, m, o, options, d);

                // After the table: natd's masquerade rule loads nf_conntrack
                // where it is a module; until then its settings do not exist.
                if (v.conntrack.empty())
                        mark_intact(Part::Conntrack, m, d);
                else if (v.ruleset.empty())
                        consider(Part::Conntrack, v.conntrack, SetConntrack{}, m, o, options, d);

                if (v.ruleset.empty() && !m.replace_requested) {
                        mark_intact(Part::Ruleset, m, d);
                } else if (m.replace_requested) {
                        m.replace_requested = false;
                        d.actions.emplace_back(ReplaceTable{});
                } else {
                        consider(Part::Ruleset, v.ruleset, ReplaceTable{}, m, o, options, d);
                }

                // Kernel state first, files after: the NAT works before the
                // fsyncs are done.
                consider_routes(*t, v, waiting, m, o, options, d);

                if (!waiting) {
                        if (o.files_current) {
                                mark_intact(Part::Files, m, d);
                        } else {
                                const size_t before = d.actions.size();
                                consider(Part::Files, {"natd's files differ from the plan"},
                                         WriteFiles{}, m, o, options, d);
                                if (d.actions.size() > before && !o.dropin_current)
                                        m.reload_due = true;
                        }
                        consider_reload(*t, m, o, options, d);
                }
        }
        if (d.actions.empty()) {
                if (auto next = m.guard.next_resume_usec())
                        wake_at(d, *next);
                report(desired, t, o, m, options, d);
        }
        d.memory = std::move(m);
        return d;
}

void record_skipped(Memory& m, const Action& action) {
        if (std::holds_alternative<ReloadNetworkd>(action)) {
                m.reload_due = true;
                m.reload_requested = false;
        }
}

void record_success(Memory& m, const Action& action) {
        PartMemory& pm = m.part(part_of(action));
        pm.just_applied = true;
        if (pm.undone) {
                ++m.repairs;
                ++m.part_repairs[static_cast<size_t>(part_of(action))];
                m.repaired_now = true;
        }
}

void record_failure(Memory& m, const Action& action, const std::string& error, uint64_t now_usec,
                    double jitter, const ReconcileOptions& options) {
        PartMemory& pm = m.part(part_of(action));
        pm.just_applied = false;
        ++pm.failures;
        pm.error = error;
        pm.retry_at_usec = now_usec + retry_delay_usec(pm.failures, jitter, options);
}

void record_networkd_reload(Memory& m, uint64_t generation, bool ok) {
        if (generation != m.generation)
                return;  // a newer target superseded this call
        m.reload_requested = false;
        if (!ok && m.routes == RouteOwnership::NetworkdPending)
                m.routes = RouteOwnership::NatdInterim;
}

void request_reapply(Memory& m) {
        m.replace_requested = true;
        retry_now(m);
}

void retry_now(Memory& m) {
        for (auto& p : m.parts)
                p.retry_at_usec = 0;
}

uint64_t retry_delay_usec(unsigned failures, double jitter, const ReconcileOptions& options) {
        return backoff_delay_usec(failures, jitter,
                                  {options.retry_min_usec, options.retry_max_usec});
}

}  // namespace natd
