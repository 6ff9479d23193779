// The pair's role changes: the takeover's order (commit first, then the
// address and EC2 at once, confirmation last), retries, repair of the
// floating address, and standing by.
#include <algorithm>

#include <catch2/catch.hpp>

#include "ha-role.hpp"

using natd::begin_term;
using natd::decide_ha;
using natd::HaObservation;
using natd::HaStep;
using natd::HaTerm;
using natd::StepState;
using natd::VrrpState;

namespace {

constexpr uint64_t kSec = 1'000'000;
const natd::BackoffPolicy kPolicy{100'000, 10 * kSec};

bool starts(const natd::HaDecision& d, HaStep s) {
        return std::find(d.start.begin(), d.start.end(), s) != d.start.end();
}

void run(HaTerm& t, HaStep s, uint64_t now) {
        natd::record_step_started(t, s);
        natd::record_step_done(t, s, now);
}

}  // namespace

TEST_CASE("keepalived's words", "[ha]") {
        CHECK(natd::parse_vrrp_state("master") == VrrpState::Master);
        CHECK(natd::parse_vrrp_state("backup") == VrrpState::Backup);
        CHECK(natd::parse_vrrp_state("fault") == VrrpState::Fault);
        CHECK(natd::parse_vrrp_state("stop") == VrrpState::Stop);
        CHECK_FALSE(natd::parse_vrrp_state("MASTER"));
        CHECK_FALSE(natd::parse_vrrp_state("active"));
}

TEST_CASE("before keepalived says anything: starting, nothing done", "[ha]") {
        const auto d = decide_ha(HaTerm{}, {.address_local = true}, 0);
        CHECK(d.role == "starting");
        CHECK(d.start.empty());
        CHECK_FALSE(d.complete);
        CHECK(d.status == "waiting for keepalived to choose this NAT's role");
}

TEST_CASE("becoming active: commit, then address and EC2 at once, then confirm", "[ha]") {
        HaTerm t = begin_term(VrrpState::Master, 10 * kSec);
        uint64_t now = 10 * kSec;
        auto d = decide_ha(t, {}, now);
        CHECK(d.role == "active");
        // Nothing before the commit: replies arriving first would be reset.
        CHECK(d.start == std::vector<HaStep>{HaStep::CommitConntrack});
        natd::record_step_started(t, HaStep::CommitConntrack);
        CHECK(decide_ha(t, {}, now).start.empty());
        natd::record_step_done(t, HaStep::CommitConntrack, now);
        d = decide_ha(t, {}, now);
        CHECK(d.start == std::vector<HaStep>{HaStep::AddAddress, HaStep::AssignAddress,
                                             HaStep::ReplaceRoutes});
        for (HaStep s : d.start)
                natd::record_step_started(t, s);
        CHECK(decide_ha(t, {}, now).start.empty());
        natd::record_step_done(t, HaStep::AddAddress, now);
        natd::record_step_done(t, HaStep::AssignAddress, now);
        // Confirmation only after both EC2 calls.
        CHECK(decide_ha(t, {.address_local = true}, now).start.empty());
        natd::record_step_done(t, HaStep::ReplaceRoutes, now);
        d = decide_ha(t, {.address_local = true}, now);
        CHECK(d.start == std::vector<HaStep>{HaStep::Confirm});
        CHECK_FALSE(d.complete);
        CHECK(d.status == "taking over: confirming with EC2 and IMDS");
        run(t, HaStep::Confirm, now);
        d = decide_ha(t, {.address_local = true}, now);
        CHECK(d.complete);
        CHECK_FALSE(d.failing);
        CHECK(d.start.empty());
        CHECK(d.status == "active: holds the floating address and the routes");
}

TEST_CASE("a failed commit does not stop the takeover, and says what it costs", "[ha]") {
        HaTerm t = begin_term(VrrpState::Master, 0);
        natd::record_step_started(t, HaStep::CommitConntrack);
        natd::record_step_failed(t, HaStep::CommitConntrack, "conntrackd -c exited 1", 0, 0.5,
                                 kPolicy);
        const auto d = decide_ha(t, {}, 0);
        CHECK(starts(d, HaStep::AddAddress));
        CHECK(starts(d, HaStep::AssignAddress));
        CHECK(d.status.find("conntrackd's commit failed, established connections may reset: "
                            "conntrackd -c exited 1") != std::string::npos);
        CHECK_FALSE(d.failing);  // the takeover itself goes on
}

TEST_CASE("EC2 failures: retried after the backoff, degraded meanwhile", "[ha]") {
        HaTerm t = begin_term(VrrpState::Master, 0);
        run(t, HaStep::CommitConntrack, 0);
        run(t, HaStep::AddAddress, 0);
        run(t, HaStep::AssignAddress, 0);
        natd::record_step_started(t, HaStep::ReplaceRoutes);
        natd::record_step_failed(t, HaStep::ReplaceRoutes,
                                 "EC2 ReplaceRoute: RequestLimitExceeded: slow down", kSec, 0.5,
                                 kPolicy);
        auto d = decide_ha(t, {.address_local = true}, kSec);
        CHECK(d.failing);
        CHECK_FALSE(d.complete);
        CHECK(d.start.empty());
        REQUIRE(d.wake_usec);
        CHECK(*d.wake_usec == t.step(HaStep::ReplaceRoutes).retry_at_usec);
        CHECK(d.status.find(
                      "replace-routes failing (1x): EC2 ReplaceRoute: RequestLimitExceeded") !=
              std::string::npos);
        d = decide_ha(t, {.address_local = true}, *d.wake_usec);
        CHECK(d.start == std::vector<HaStep>{HaStep::ReplaceRoutes});
}

TEST_CASE("confirmation that fails asks EC2 again", "[ha]") {
        HaTerm t = begin_term(VrrpState::Master, 0);
        for (HaStep s : {HaStep::CommitConntrack, HaStep::AddAddress, HaStep::AssignAddress,
                         HaStep::ReplaceRoutes})
                run(t, s, 0);
        natd::record_step_started(t, HaStep::Confirm);
        natd::record_step_failed(t, HaStep::Confirm,
                                 "rtb-0000000000000c001 routes 0.0.0.0/0 to eni-peer", kSec, 0.5,
                                 kPolicy);
        const auto d = decide_ha(t, {.address_local = true}, kSec);
        CHECK(d.start == std::vector<HaStep>{HaStep::AssignAddress, HaStep::ReplaceRoutes});
        CHECK_FALSE(d.complete);
}

TEST_CASE("the floating address removed while active: put back, after it settled", "[ha]") {
        HaTerm t = begin_term(VrrpState::Master, 0);
        for (HaStep s : {HaStep::CommitConntrack, HaStep::AddAddress, HaStep::AssignAddress,
                         HaStep::ReplaceRoutes, HaStep::Confirm})
                run(t, s, 5 * kSec);
        // Just added: the link table may not show it yet.
        auto d = decide_ha(t, {.address_local = false}, 5 * kSec);
        CHECK(d.start.empty());
        CHECK_FALSE(d.complete);
        REQUIRE(d.wake_usec);
        d = decide_ha(t, {.address_local = false}, *d.wake_usec);
        CHECK(d.start == std::vector<HaStep>{HaStep::AddAddress});
}

TEST_CASE("standby: the address off, a resync asked for; ready once it is off", "[ha]") {
        HaTerm t = begin_term(VrrpState::Backup, 0);
        auto d = decide_ha(t, {.address_local = true}, 0);
        CHECK(d.role == "standby");
        CHECK(d.start == std::vector<HaStep>{HaStep::RemoveAddress, HaStep::RequestResync});
        CHECK_FALSE(d.complete);
        run(t, HaStep::RemoveAddress, 0);
        run(t, HaStep::RequestResync, 0);
        d = decide_ha(t, {.address_local = false}, 0);
        CHECK(d.complete);
        CHECK(d.start.empty());
        CHECK(d.status == "standby: ready to take over");
        // A failed resync leaves a ready standby that says what it risks.
        HaTerm u = begin_term(VrrpState::Backup, 0);
        natd::record_step_started(u, HaStep::RequestResync);
        natd::record_step_failed(u, HaStep::RequestResync, "conntrackd -n: no daemon", 0, 0.5,
                                 kPolicy);
        d = decide_ha(u, {}, 0);
        CHECK(d.complete);
        CHECK(d.failing);
        CHECK(d.status.find("conntrackd's resync failed") != std::string::npos);
}

TEST_CASE("fault and stop: the address off, never complete", "[ha]") {
        for (auto vrrp : {VrrpState::Fault, VrrpState::Stop}) {
                HaTerm t = begin_term(vrrp, 0);
                const auto d = decide_ha(t, {.address_local = true}, 0);
                CHECK(d.start == std::vector<HaStep>{HaStep::RemoveAddress});
                CHECK_FALSE(d.complete);
                CHECK(d.role == (vrrp == VrrpState::Fault ? "fault" : "stopped"));
        }
}

TEST_CASE("active and in place: the route tables looked at every 10 s", "[ha]") {
        HaTerm t = begin_term(VrrpState::Master, 0);
        for (HaStep s : {HaStep::CommitConntrack, HaStep::AddAddress, HaStep::AssignAddress,
                         HaStep::ReplaceRoutes, HaStep::Confirm})
                run(t, s, kSec);
        natd::record_complete(t, 2 * kSec);
        auto d = decide_ha(t, {.address_local = true}, 2 * kSec);
        CHECK(d.complete);
        CHECK(d.start.empty());
        REQUIRE(d.wake_usec);
        CHECK(*d.wake_usec == 2 * kSec + natd::kHaRecheckUsec);
        d = decide_ha(t, {.address_local = true}, *d.wake_usec);
        CHECK(d.start == std::vector<HaStep>{HaStep::Recheck});
        run(t, HaStep::Recheck, 12 * kSec);
        d = decide_ha(t, {.address_local = true}, 12 * kSec);
        CHECK(d.start.empty());
        CHECK(*d.wake_usec == 12 * kSec + natd::kHaRecheckUsec);
}

TEST_CASE("split brain: the route tables point at the peer, this NAT stands by", "[ha]") {
        HaTerm t = begin_term(VrrpState::Master, 0);
        for (HaStep s : {HaStep::CommitConntrack, HaStep::AddAddress, HaStep::AssignAddress,
                         HaStep::ReplaceRoutes, HaStep::Confirm})
                run(t, s, 0);
        natd::record_yield(t, "rtb-1 routes 0.0.0.0/0 to eni-peer");
        auto d = decide_ha(t, {.address_local = true}, 5 * kSec);
        CHECK(d.role == "standby");
        CHECK(d.failing);
        CHECK_FALSE(d.complete);
        CHECK(d.start == std::vector<HaStep>{HaStep::RemoveAddress});
        CHECK(d.status == "split brain: keepalived says master, but rtb-1 routes 0.0.0.0/0 to "
                          "eni-peer; standing by until keepalived says otherwise");
        run(t, HaStep::RemoveAddress, 5 * kSec);
        d = decide_ha(t, {.address_local = false}, 5 * kSec);
        CHECK(d.start.empty());  // no recheck, no takeover: keepalived decides next
        CHECK(d.failing);
        // keepalived's next word begins a new term, without the yield.
        CHECK(begin_term(VrrpState::Master, 9 * kSec).yielded.empty());
}

TEST_CASE("handing over: the address stays until the peer holds the routes", "[ha]") {
        HaTerm t = begin_term(VrrpState::Fault, 0);
        t.handing_over = true;
        auto d = decide_ha(t, {.address_local = true}, 0);
        CHECK(d.start == std::vector<HaStep>{HaStep::AwaitPeer});
        CHECK(d.role == "standby");
        CHECK_FALSE(d.complete);
        CHECK(d.status.starts_with("handing over: the peer takes the routes"));
        natd::record_step_started(t, HaStep::AwaitPeer);
        natd::record_step_failed(t, HaStep::AwaitPeer, "rtb-1 still routes 0.0.0.0/0 to this NAT",
                                 kSec, 0.5, kPolicy);
        d = decide_ha(t, {.address_local = true}, kSec);
        CHECK(d.start.empty());  // not before its retry
        REQUIRE(d.wake_usec);
        natd::record_step_done(t, HaStep::AwaitPeer, 2 * kSec);
        d = decide_ha(t, {.address_local = true}, 2 * kSec);
        CHECK(d.start == std::vector<HaStep>{HaStep::RemoveAddress});
        // A peer that never takes the routes: this NAT lets go all the same.
        HaTerm u = begin_term(VrrpState::Fault, 0);
        u.handing_over = true;
        natd::record_step_started(u, HaStep::AwaitPeer);
        natd::record_step_failed(u, HaStep::AwaitPeer, "still here", 0, 0.5, kPolicy);
        d = decide_ha(u, {.address_local = true}, natd::kHaHandoverWaitUsec);
        CHECK(std::find(d.start.begin(), d.start.end(), HaStep::RemoveAddress) != d.start.end());
}
