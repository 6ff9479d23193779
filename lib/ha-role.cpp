#include "ha-role.hpp"

namespace natd {

namespace {

bool is(const HaTerm& t, HaStep s, StepState state) {
        return t.step(s).state == state;
}

// Not running, not done, and due (never tried, or its retry time came).
bool startable(const HaTerm& t, HaStep s, uint64_t now_usec) {
        const StepProgress& p = t.step(s);
        return p.state == StepState::Pending ||
               (p.state == StepState::Failed && now_usec >= p.retry_at_usec);
}

// The link table shows an address change a moment after the kernel made
// it: a done step counts as undone only after that.
constexpr uint64_t kSettleUsec = 1'000'000;

// `step` is done, but what it did is not (or no longer) what natd sees.
bool undone(const HaTerm& t, HaStep step, bool differs, uint64_t now_usec, HaDecision& d) {
        const StepProgress& p = t.step(step);
        if (p.state != StepState::Done || !differs)
                return false;
        if (now_usec >= p.done_usec + kSettleUsec)
                return true;
        if (!d.wake_usec || p.done_usec + kSettleUsec < *d.wake_usec)
                d.wake_usec = p.done_usec + kSettleUsec;
        return false;
}

void add_failures(const HaTerm& t, std::initializer_list<HaStep> steps, HaDecision& d,
                  std::vector<std::string>& problems) {
        for (HaStep s : steps) {
                const StepProgress& p = t.step(s);
                if (p.state != StepState::Failed)
                        continue;
                problems.push_back(std::string(ha_step_name(s)) + " failing (" +
                                   std::to_string(p.failures) + "x): " + p.error);
                if (!d.wake_usec || p.retry_at_usec < *d.wake_usec)
                        d.wake_usec = p.retry_at_usec;
        }
}

void decide_yielded(const HaTerm& t, const HaObservation& o, uint64_t now, HaDecision& d) {
        d.role = "standby";
        d.failing = true;
        if (o.address_local && (startable(t, HaStep::RemoveAddress, now) ||
                                undone(t, HaStep::RemoveAddress, true, now, d)))
                d.start.push_back(HaStep::RemoveAddress);
        d.status = "split brain: keepalived says master, but " + t.yielded +
                   "; standing by until keepalived says otherwise";
}

void decide_active(const HaTerm& t, const HaObservation& o, uint64_t now, HaDecision& d) {
        if (!t.yielded.empty())
                return decide_yielded(t, o, now, d);
        d.role = "active";
        std::vector<std::string> problems;
        // The commit comes first; when it cannot be done the takeover goes
        // on without it (availability first; established connections may be
        // reset) and status says so.
        const StepProgress& commit = t.step(HaStep::CommitConntrack);
        if (commit.state == StepState::Pending) {
                d.start.push_back(HaStep::CommitConntrack);
                d.status = "taking over: committing the peer's connections (conntrackd)";
                return;
        }
        if (commit.state == StepState::Running) {
                d.status = "taking over: committing the peer's connections (conntrackd)";
                return;
        }
        if (commit.state == StepState::Failed)
                problems.push_back("conntrackd's commit failed, established connections may "
                                   "reset: " +
                                   commit.error);
        // The address taken off again (by hand, by a restart of networkd):
        // put back, as the reconciler repairs what it owns.
        const bool address_done = is(t, HaStep::AddAddress, StepState::Done) && o.address_local;
        if (startable(t, HaStep::AddAddress, now) ||
            undone(t, HaStep::AddAddress, !o.address_local, now, d))
                d.start.push_back(HaStep::AddAddress);
        for (HaStep s : {HaStep::AssignAddress, HaStep::ReplaceRoutes})
                if (startable(t, s, now))
                        d.start.push_back(s);
        const bool ec2_done = is(t, HaStep::AssignAddress, StepState::Done) &&
                              is(t, HaStep::ReplaceRoutes, StepState::Done);
        if (ec2_done && startable(t, HaStep::Confirm, now))
                d.start.push_back(HaStep::Confirm);
        add_failures(
                t,
                {HaStep::AddAddress, HaStep::AssignAddress, HaStep::ReplaceRoutes, HaStep::Confirm},
                d, problems);
        const bool confirmed = is(t, HaStep::Confirm, StepState::Done);
        d.complete = address_done && confirmed;
        // Once in place: EC2 asked again now and then whether the routes
        // are still this NAT's (a peer that also thinks it is master).
        if (d.complete && t.complete_usec != 0) {
                const StepProgress& r = t.step(HaStep::Recheck);
                const uint64_t last = std::max(t.complete_usec, r.done_usec);
                const uint64_t due =
                        r.state == StepState::Failed ? r.retry_at_usec : last + kHaRecheckUsec;
                if (r.state != StepState::Running && now >= due)
                        d.start.push_back(HaStep::Recheck);
                else if (r.state != StepState::Running && (!d.wake_usec || due < *d.wake_usec))
                        d.wake_usec = due;
        }
        const size_t step_failures = problems.size() - (commit.state == StepState::Failed ? 1 : 0);
        d.failing = step_failures > 0;
        std::string status = d.complete  ? "active: holds the floating address and the routes"
                             : !ec2_done ? "taking over: the floating address and the routes (EC2)"
                                         : "taking over: confirming with EC2 and IMDS";
        for (const auto& p : problems)
                status += "; " + p;
        d.status = std::move(status);
}

void decide_passive(const HaTerm& t, const HaObservation& o, uint64_t now, HaDecision& d) {
        d.role = t.vrrp == VrrpState::Backup  ? "standby"
                 : t.vrrp == VrrpState::Fault ? "fault"
                                              : "stopped";
        std::vector<std::string> problems;
        if (o.address_local && (startable(t, HaStep::RemoveAddress, now) ||
                                undone(t, HaStep::RemoveAddress, true, now, d)))
                d.start.push_back(HaStep::RemoveAddress);
        if (t.vrrp == VrrpState::Backup && startable(t, HaStep::RequestResync, now))
                d.start.push_back(HaStep::RequestResync);
        if (t.handing_over) {
                // The peer first: traffic keeps flowing through this NAT
                // until EC2 routes it to the peer.
                const StepProgress& wait = t.step(HaStep::AwaitPeer);
                const bool waited =
                        wait.state == StepState::Done || now >= t.since_usec + kHaHandoverWaitUsec;
                if (!waited) {
                        std::erase(d.start, HaStep::RemoveAddress);
                        if (startable(t, HaStep::AwaitPeer, now))
                                d.start.push_back(HaStep::AwaitPeer);
                        else if (wait.state == StepState::Failed &&
                                 (!d.wake_usec || wait.retry_at_usec < *d.wake_usec))
                                d.wake_usec = wait.retry_at_usec;
                        const uint64_t give_up = t.since_usec + kHaHandoverWaitUsec;
                        if (!d.wake_usec || give_up < *d.wake_usec)
                                d.wake_usec = give_up;
                }
        }
        add_failures(t, {HaStep::RemoveAddress}, d, problems);
        const StepProgress& resync = t.step(HaStep::RequestResync);
        if (t.vrrp == VrrpState::Backup && resync.state == StepState::Failed) {
                problems.push_back("conntrackd's resync failed, a takeover may reset "
                                   "connections: " +
                                   resync.error);
                if (!d.wake_usec || resync.retry_at_usec < *d.wake_usec)
                        d.wake_usec = resync.retry_at_usec;
        }
        d.failing = !problems.empty();
        d.complete = !o.address_local && t.vrrp == VrrpState::Backup;
        if (t.handing_over) {
                d.role = "standby";
                d.complete = false;
        }
        std::string status =
                t.vrrp == VrrpState::Backup ? "standby: ready to take over"
                : t.handing_over ? (o.address_local ? "handing over: the peer takes the routes, "
                                                      "then this NAT lets the floating address go"
                                                    : "handed over: waiting for keepalived to "
                                                      "leave FAULT")
                : t.vrrp == VrrpState::Fault
                        ? "fault: keepalived reports FAULT (an interface or a check "
                          "failed); not taking over"
                        : "stopped: keepalived stopped";
        if (o.address_local)
                status += "; removing the floating address";
        for (const auto& p : problems)
                status += "; " + p;
        d.status = std::move(status);
}

}  // namespace

const char* vrrp_state_name(VrrpState state) {
        switch (state) {
        case VrrpState::Unknown:
                return "unknown";
        case VrrpState::Master:
                return "master";
        case VrrpState::Backup:
                return "backup";
        case VrrpState::Fault:
                return "fault";
        case VrrpState::Stop:
                return "stop";
        }
        return "unknown";
}

std::optional<VrrpState> parse_vrrp_state(std::string_view text) {
        for (VrrpState s :
             {VrrpState::Master, VrrpState::Backup, VrrpState::Fault, VrrpState::Stop})
                if (text == vrrp_state_name(s))
                        return s;
        return std::nullopt;
}

const char* ha_step_name(HaStep step) {
        switch (step) {
        case HaStep::CommitConntrack:
                return "commit-conntrack";
        case HaStep::AddAddress:
                return "add-address";
        case HaStep::AssignAddress:
                return "assign-address";
        case HaStep::ReplaceRoutes:
                return "replace-routes";
        case HaStep::Confirm:
                return "confirm";
        case HaStep::RemoveAddress:
                return "remove-address";
        case HaStep::RequestResync:
                return "request-resync";
        case HaStep::Recheck:
                return "recheck";
        case HaStep::AwaitPeer:
                return "await-peer";
        }
        return "?";
}

HaTerm begin_term(VrrpState vrrp, uint64_t now_usec) {
        HaTerm t;
        t.vrrp = vrrp;
        t.since_usec = now_usec;
        return t;
}

HaDecision decide_ha(const HaTerm& term, const HaObservation& observed, uint64_t now_usec) {
        HaDecision d;
        if (term.vrrp == VrrpState::Unknown) {
                d.role = "starting";
                d.status = "waiting for keepalived to choose this NAT's role";
                return d;
        }
        if (term.vrrp == VrrpState::Master)
                decide_active(term, observed, now_usec, d);
        else
                decide_passive(term, observed, now_usec, d);
        return d;
}

void record_step_started(HaTerm& term, HaStep step) {
        term.step(step).state = StepState::Running;
}

void record_step_done(HaTerm& term, HaStep step, uint64_t now_usec) {
        StepProgress& p = term.step(step);
        p.state = StepState::Done;
        p.failures = 0;
        p.error.clear();
        p.done_usec = now_usec;
}

void record_step_failed(HaTerm& term, HaStep step, const std::string& error, uint64_t now_usec,
                        double jitter, const BackoffPolicy& policy) {
        StepProgress& p = term.step(step);
        p.state = StepState::Failed;
        ++p.failures;
        p.error = error;
        p.retry_at_usec = now_usec + backoff_delay_usec(p.failures, jitter, policy);
        // The routes or the address are not where they should be: EC2 is
        // asked again (and confirmation after that).
        if (step == HaStep::Confirm)
                for (HaStep s : {HaStep::AssignAddress, HaStep::ReplaceRoutes})
                        if (term.step(s).state == StepState::Done)
                                term.step(s).state = StepState::Pending;
}

void record_yield(HaTerm& term, const std::string& why) {
        term.yielded = why;
}

void record_complete(HaTerm& term, uint64_t now_usec) {
        if (term.complete_usec == 0)
                term.complete_usec = now_usec;
}

}  // namespace natd
