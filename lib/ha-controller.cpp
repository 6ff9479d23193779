#include "ha-controller.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <linux/netlink.h>
#include <spdlog/spdlog.h>

#include "atomic-file.hpp"
#include "ec2-query.hpp"
#include "ec2-response.hpp"
#include "floating-address.hpp"
#include "ha-engines.hpp"
#include "ha-state.hpp"

namespace natd {

namespace {

// Spot gives two minutes' notice, a lifecycle hook as long as it says.
constexpr uint64_t kNoticePollUsec = 5'000'000;

uint64_t clock_now(sd_event* event, clockid_t clock) {
        uint64_t t = 0;
        sd_event_now(event, clock, &t);
        return t;
}

const char* step_state_name(StepState s) {
        switch (s) {
        case StepState::Pending:
                return "pending";
        case StepState::Running:
                return "running";
        case StepState::Done:
                return "done";
        case StepState::Failed:
                return "failed";
        }
        return "?";
}

// The steps a role has, in the order status lists them.
std::vector<HaStep> steps_of(VrrpState vrrp) {
        if (vrrp == VrrpState::Master)
                return {HaStep::CommitConntrack, HaStep::AddAddress, HaStep::AssignAddress,
                        HaStep::ReplaceRoutes, HaStep::Confirm};
        if (vrrp == VrrpState::Backup)
                return {HaStep::RemoveAddress, HaStep::RequestResync};
        if (vrrp == VrrpState::Unknown)
                return {};
        return {HaStep::RemoveAddress};
}

}  // namespace

Result<std::unique_ptr<HaController>>
HaController::create(sd_event* event, HaControllerOptions options, std::function<void()> changed) {
        auto rtnl = NetlinkSocket::open(NETLINK_ROUTE, false);
        if (!rtnl.ok())
                return rtnl.failure();
        ImdsOptions imds_options;
        imds_options.endpoint = options.imds_endpoint;
        auto imds = ImdsClient::create(event, imds_options);
        if (!imds.ok())
                return imds.failure();
        // The endpoint follows the plan (set_plan): until then, the region's.
        auto ec2 = Ec2Client::create(event, *imds.value(), {});
        if (!ec2.ok())
                return ec2.failure();
        return std::unique_ptr<HaController>(new HaController(
                event, std::move(options), std::move(changed), std::move(rtnl).value(),
                std::move(imds).value(), std::move(ec2).value()));
}

HaController::HaController(sd_event* event, HaControllerOptions options,
                           std::function<void()> changed, NetlinkSocket rtnl,
                           std::unique_ptr<ImdsClient> imds, std::unique_ptr<Ec2Client> ec2)
    : event_(event), options_(std::move(options)), changed_(std::move(changed)),
      rtnl_(std::move(rtnl)), imds_(std::move(imds)), ec2_(std::move(ec2)), children_(event),
      jitter_(std::random_device{}()) {}

HaController::~HaController() {
        timer_.reset();
        ec2_.reset();  // drops its callbacks before the IMDS client goes
}

uint64_t HaController::now_usec() const {
        return clock_now(event_, CLOCK_MONOTONIC);
}

void HaController::set_plan(const HaPlan& plan) {
        if (plan_ == plan)
                return;
        const bool first = !plan_;
        // keepalived told natd-ctl before this natd could listen (it was
        // starting, or restarting under a running keepalived).
        if (first && term_.vrrp == VrrpState::Unknown) {
                auto recorded = read_vrrp_state(options_.run_directory);
                if (recorded.ok() && recorded.value()) {
                        spdlog::info("high availability: keepalived said {} (recorded in {})",
                                     vrrp_state_name(*recorded.value()),
                                     vrrp_state_path(options_.run_directory).string());
                        term_ = begin_term(*recorded.value(), now_usec());
                        term_.handing_over = false;
                        ++term_id_;
                } else if (!recorded.ok()) {
                        spdlog::warn("high availability: {}", recorded.error());
                }
        }
        if (first ? !plan.ec2_endpoint.empty() : plan_->ec2_endpoint != plan.ec2_endpoint) {
                Ec2ClientOptions ec2_options;
                ec2_options.endpoint = plan.ec2_endpoint;
                auto ec2 = Ec2Client::create(event_, *imds_, ec2_options);
                if (ec2.ok())
                        ec2_ = std::move(ec2).value();
                else
                        spdlog::error("high availability: {}", ec2.error());
        }
        plan_ = plan;
        write_engine_files();
        if (first)
                poll_notices();
        // What the role's steps did may not hold for the new pair.
        if (!first && term_.vrrp != VrrpState::Unknown) {
                const uint64_t since = term_.since_usec;
                term_ = begin_term(term_.vrrp, now_usec());
                term_.since_usec = since;
                ++term_id_;
        }
        step();
}

void HaController::notify(VrrpState state) {
        if (state == term_.vrrp)
                return;
        spdlog::info("high availability: keepalived says {} (was {})", vrrp_state_name(state),
                     vrrp_state_name(term_.vrrp));
        term_ = begin_term(state, now_usec());
        term_.handing_over = state == VrrpState::Fault && handover_requested_;
        if (state != VrrpState::Fault)
                handover_requested_ = false;
        ++term_id_;
        step();
}

void HaController::observe(bool address_local) {
        if (address_local == address_local_)
                return;
        address_local_ = address_local;
        step();
}

void HaController::step() {
        if (!plan_)
                return;
        const uint64_t now = now_usec();
        HaDecision d = decide_ha(term_, {.address_local = address_local_}, now);
        for (HaStep s : d.start)
                start(s);
        if (!d.start.empty())
                d = decide_ha(term_, {.address_local = address_local_}, now);
        // Handed over: keepalived may leave FAULT (and become BACKUP).
        if (term_.handing_over && !address_local_ &&
            term_.step(HaStep::RemoveAddress).state == StepState::Done && handover_requested_) {
                handover_requested_ = false;
                write_track_file("handover", 0);
                spdlog::info("high availability: handed over to {}", plan_->peer.str());
        }
        if (d.complete && term_.complete_usec == 0) {
                // Active again by keepalived's choice: its priority back.
                if (term_.vrrp == VrrpState::Master)
                        write_track_file("yield", 0);
                record_complete(term_, now);
                ++transitions_;
                last_transition_role_ = d.role;
                last_transition_duration_usec_ = now - term_.since_usec;
                last_transition_realtime_usec_ =
                        clock_now(event_, CLOCK_REALTIME) - (now - term_.since_usec);
                spdlog::info("high availability: {} in {} ms", d.status,
                             last_transition_duration_usec_ / 1000);
        }
        if (d.wake_usec) {
                if (!timer_) {
                        sd_event_source* source = nullptr;
                        if (sd_event_add_time(event_, &source, CLOCK_MONOTONIC, *d.wake_usec, 1000,
                                              &HaController::on_timer, this) >= 0)
                                timer_.reset(source);
                } else {
                        sd_event_source_set_time(timer_.get(), *d.wake_usec);
                        sd_event_source_set_enabled(timer_.get(), SD_EVENT_ONESHOT);
                }
        }
        const bool changed = d.status != decision_.status || d.complete != decision_.complete ||
                             d.failing != decision_.failing || d.role != decision_.role;
        decision_ = std::move(d);
        if (changed && changed_)
                changed_();
}

void HaController::poll_notices() {
        // conntrackd's counters, on the same beat.
        const std::vector<std::string> stats{options_.conntrackd, "-C", conntrackd_config(), "-s"};
        if (children_.running() < 4) {
                Status started = children_.start(
                        stats, options_.command_timeout_usec, [this](Result<std::string> out) {
                                auto parsed = out.ok() ? parse_conntrackd_stats(out.value())
                                                       : Result<ConntrackdStats>(out.failure());
                                if (parsed.ok()) {
                                        sync_ = parsed.value();
                                        sync_error_.clear();
                                } else {
                                        sync_error_ = parsed.error();
                                }
                        });
                if (!started.ok())
                        sync_error_ = started.error();
        }
        // 404 (no notice) is the usual answer; an error is retried next time.
        imds_->get("meta-data/spot/instance-action", [this](Result<std::string> action) {
                if (action.ok())
                        noticed("spot interruption notice " + action.value());
        });
        imds_->get("meta-data/autoscaling/target-lifecycle-state",
                   [this](Result<std::string> state) {
                           if (state.ok() && state.value().starts_with("Terminated"))
                                   noticed("Auto Scaling target lifecycle state " + state.value());
                   });
        sd_event_source* source = nullptr;
        if (notice_timer_) {
                sd_event_source_set_time_relative(notice_timer_.get(), kNoticePollUsec);
                sd_event_source_set_enabled(notice_timer_.get(), SD_EVENT_ONESHOT);
        } else if (sd_event_add_time_relative(event_, &source, CLOCK_MONOTONIC, kNoticePollUsec,
                                              100'000, &HaController::on_notice_timer, this) >= 0) {
                notice_timer_.reset(source);
        }
}

int HaController::on_notice_timer(sd_event_source* /*source*/, uint64_t /*usec*/, void* self) {
        static_cast<HaController*>(self)->poll_notices();
        return 0;
}

void HaController::noticed(const std::string& notice) {
        std::string text = notice;
        while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
                text.pop_back();
        if (text == notice_)
                return;
        notice_ = text;
        spdlog::warn("high availability: {}", notice_);
        if (decision_.role == "active" && decision_.complete && !handover_requested_)
                if (Status s = handover(); !s.ok())
                        spdlog::error("high availability: {}", s.error());
        if (changed_)
                changed_();
}

int HaController::on_timer(sd_event_source* /*source*/, uint64_t /*usec*/, void* self) {
        static_cast<HaController*>(self)->step();
        return 0;
}

void HaController::finished(HaStep s, uint64_t term_id, const Status& result) {
        if (term_id != term_id_)
                return;  // its role is over
        if (result.ok()) {
                record_step_done(term_, s, now_usec());
        } else {
                spdlog::warn("high availability: {}: {}", ha_step_name(s), result.error());
                record_step_failed(term_, s, result.error(), now_usec(),
                                   std::uniform_real_distribution<double>(0, 1)(jitter_),
                                   options_.retry);
        }
        step();
}

void HaController::start(HaStep s) {
        record_step_started(term_, s);
        const uint64_t id = term_id_;
        const HaPlan& p = *plan_;
        // The floating address with the prefix of the public ENI's subnet.
        const Ipv4Cidr floating = p.floating_cidr;
        switch (s) {
        case HaStep::CommitConntrack:
                commit_conntrack(id);
                return;
        case HaStep::AddAddress: {
                Status added = add_floating_address(rtnl_, p.public_ifindex, floating);
                // Announced at once: the gateway (or a bridge) learns this
                // NAT's MAC instead of waiting for the old holder's to age out.
                if (added.ok())
                        if (Status garp = send_gratuitous_arp(p.public_ifindex, p.public_mac,
                                                              p.floating_address);
                            !garp.ok())
                                spdlog::warn("high availability: {}", garp.error());
                finished(s, id, added);
                return;
        }
        case HaStep::RemoveAddress:
                finished(s, id, remove_floating_address(rtnl_, p.public_ifindex, floating));
                return;
        case HaStep::AssignAddress:
                ec2_->call(ec2_assign_private_ip(p.public_eni_id, p.floating_address, true),
                           [this, s, id](Result<std::string> answer) {
                                   if (!answer.ok())
                                           return finished(s, id, answer.failure());
                                   auto parsed = ec2_parse_assign_private_ip(answer.value());
                                   if (!parsed.ok())
                                           return finished(s, id, parsed.failure());
                                   if (!parsed.value().returned)
                                           return finished(
                                                   s, id,
                                                   Error{"EC2 AssignPrivateIpAddresses returned "
                                                         "false"});
                                   finished(s, id, Ok{});
                           });
                return;
        case HaStep::ReplaceRoutes:
                replace_routes(id);
                return;
        case HaStep::Confirm:
                confirm(id);
                return;
        case HaStep::Recheck:
        case HaStep::AwaitPeer:
                look_at_routes(s, id);
                return;
        case HaStep::RequestResync: {
                const std::vector<std::string> argv{options_.conntrackd, "-C", conntrackd_config(),
                                                    "-n"};
                Status started = children_.start(
                        argv, options_.command_timeout_usec,
                        [this, s, id](const Result<std::string>& out) {
                                finished(s, id, out.ok() ? Status{Ok{}} : Status{out.failure()});
                        });
                if (!started.ok())
                        finished(s, id, started);
                return;
        }
        }
}

// -c commits the external cache (the peer's connections) into the kernel;
// -R then fills the internal cache from the kernel, so that the peer, once
// back as standby, is sent them. A failed -R costs only that.
void HaController::commit_conntrack(uint64_t id) {
        const std::vector<std::string> commit{options_.conntrackd, "-C", conntrackd_config(), "-c"};
        Status started = children_.start(
                commit, options_.command_timeout_usec, [this, id](const Result<std::string>& out) {
                        if (!out.ok())
                                return finished(HaStep::CommitConntrack, id, out.failure());
                        const std::vector<std::string> resync{options_.conntrackd, "-C",
                                                              conntrackd_config(), "-R"};
                        Status r = children_.start(resync, options_.command_timeout_usec,
                                                   [](const Result<std::string>& resynced) {
                                                           if (!resynced.ok())
                                                                   spdlog::warn(
                                                                           "high availability: {}",
                                                                           resynced.error());
                                                   });
                        if (!r.ok())
                                spdlog::warn("high availability: {}", r.error());
                        finished(HaStep::CommitConntrack, id, Ok{});
                });
        if (!started.ok())
                finished(HaStep::CommitConntrack, id, started);
}

void HaController::replace_routes(uint64_t id) {
        struct Pending {
                size_t left = 0;
                std::vector<std::string> errors;
        };
        auto pending = std::make_shared<Pending>();
        pending->left = plan_->route_tables.size();
        const Ipv4Cidr everything{};
        for (const auto& table : plan_->route_tables)
                ec2_->call(
                        ec2_replace_route(table, everything, plan_->private_eni_id),
                        [this, id, pending](Result<std::string> answer) {
                                if (!answer.ok())
                                        pending->errors.push_back(answer.error());
                                else if (auto r = ec2_parse_return("ReplaceRoute", answer.value());
                                         !r.ok())
                                        pending->errors.push_back(r.error());
                                else if (!r.value().returned)
                                        pending->errors.emplace_back(
                                                "EC2 ReplaceRoute returned false");
                                if (--pending->left > 0)
                                        return;
                                finished(HaStep::ReplaceRoutes, id, status_of(pending->errors));
                        });
}

// Recheck (active): a route table that points at another ENI means the
// peer took over while keepalived still calls this NAT master — VRRP
// between the two is broken. EC2 is the arbiter: this NAT stands by, and
// lowers its VRRP priority so that, once VRRP works again, the peer stays
// active. AwaitPeer (handing over): done once no table points here.
void HaController::look_at_routes(HaStep s, uint64_t id) {
        ec2_->call(ec2_describe_route_tables(plan_->route_tables), [this, s, id](Result<std::string>
                                                                                         answer) {
                if (!answer.ok())
                        return finished(s, id, answer.failure());
                auto tables = ec2_parse_describe_route_tables(answer.value());
                if (!tables.ok())
                        return finished(s, id, tables.failure());
                std::vector<std::string> here;
                std::vector<std::string> elsewhere;
                for (const auto& t : tables.value())
                        for (const auto& r : t.routes) {
                                if (r.destination != "0.0.0.0/0")
                                        continue;
                                if (r.network_interface_id == plan_->private_eni_id)
                                        here.push_back(t.id);
                                else
                                        elsewhere.push_back(t.id + " routes 0.0.0.0/0 to " +
                                                            (r.network_interface_id.empty()
                                                                     ? r.gateway_id
                                                                     : r.network_interface_id));
                        }
                if (s == HaStep::AwaitPeer) {
                        if (!here.empty())
                                return finished(s, id,
                                                Error{join(here, ", ") +
                                                      " still route 0.0.0.0/0 to this NAT"});
                        return finished(s, id, Ok{});
                }
                if (!elsewhere.empty() && id == term_id_) {
                        spdlog::error("high availability: split brain: keepalived says master, "
                                      "but {}; standing by",
                                      join(elsewhere));
                        record_yield(term_, join(elsewhere));
                        write_track_file("yield", plan_->priority - 1);
                }
                finished(s, id, Ok{});
        });
}

void HaController::write_track_file(const char* name, unsigned value) {
        const auto path = options_.run_directory / name;
        auto written = write_file_atomically(path, std::to_string(value) + "\n", 0644);
        if (!written.ok())
                spdlog::error("high availability: {}", written.error());
}

Status HaController::handover() {
        if (!plan_ || decision_.role != "active" || !decision_.complete)
                return Error{
                        "not the active NAT (" +
                                (decision_.role.empty() ? std::string("no pair") : decision_.role) +
                                "): nothing to hand over",
                        EALREADY};
        spdlog::info("high availability: handing over to {}", plan_->peer.str());
        handover_requested_ = true;
        // keepalived tracks the file (weight 0): non-zero puts it in FAULT,
        // it stops advertising and the peer becomes master.
        write_track_file("handover", 1);
        return Ok{};
}

// EC2 says the routes point at this NAT, IMDS that the floating address
// is this ENI's: the takeover is what AWS now believes, not only what it
// answered.
void HaController::confirm(uint64_t id) {
        ec2_->call(ec2_describe_route_tables(plan_->route_tables), [this, id](Result<std::string>
                                                                                      answer) {
                if (!answer.ok())
                        return finished(HaStep::Confirm, id, answer.failure());
                auto tables = ec2_parse_describe_route_tables(answer.value());
                if (!tables.ok())
                        return finished(HaStep::Confirm, id, tables.failure());
                std::vector<std::string> wrong;
                for (const auto& wanted : plan_->route_tables) {
                        const auto t = std::find_if(
                                tables.value().begin(), tables.value().end(),
                                [&](const Ec2RouteTable& rt) { return rt.id == wanted; });
                        if (t == tables.value().end()) {
                                wrong.push_back(wanted + " is not in DescribeRouteTables' answer");
                                continue;
                        }
                        const auto r = std::find_if(t->routes.begin(), t->routes.end(),
                                                    [](const Ec2Route& route) {
                                                            return route.destination == "0.0.0.0/0";
                                                    });
                        if (r == t->routes.end())
                                wrong.push_back(wanted + " has no 0.0.0.0/0 route");
                        else if (r->network_interface_id != plan_->private_eni_id)
                                wrong.push_back(wanted + " routes 0.0.0.0/0 to " +
                                                (r->network_interface_id.empty()
                                                         ? r->gateway_id
                                                         : r->network_interface_id) +
                                                ", not " + plan_->private_eni_id);
                        else if (r->state != "active")
                                wrong.push_back(wanted + "'s 0.0.0.0/0 route is " + r->state);
                }
                if (!wrong.empty())
                        return finished(HaStep::Confirm, id, Error{join(wrong)});
                imds_->get("meta-data/network/interfaces/macs/" + plan_->public_mac.str() +
                                   "/local-ipv4s",
                           [this, id](Result<std::string> listing) {
                                   if (!listing.ok())
                                           return finished(HaStep::Confirm, id, listing.failure());
                                   const std::string floating = plan_->floating_address.str();
                                   std::string_view rest = listing.value();
                                   bool found = false;
                                   while (!rest.empty() && !found) {
                                           const auto nl = rest.find('\n');
                                           found = rest.substr(0, nl) == floating;
                                           rest = nl == std::string_view::npos
                                                          ? std::string_view{}
                                                          : rest.substr(nl + 1);
                                   }
                                   if (!found)
                                           return finished(HaStep::Confirm, id,
                                                           Error{"IMDS does not list " + floating +
                                                                 " among " + plan_->public_eni_id +
                                                                 "'s addresses yet"});
                                   finished(HaStep::Confirm, id, Ok{});
                           });
        });
}

std::string HaController::conntrackd_config() const {
        return (options_.run_directory / "conntrackd.conf").string();
}

void HaController::write_engine_files() {
        HaEngineSettings e;
        e.vrrp_interface = plan_->sync_interface;
        e.own_address = plan_->sync_address;
        e.peer_address = plan_->peer;
        e.virtual_router_id = plan_->virtual_router_id;
        e.priority = plan_->priority;
        e.advertisement_interval_msec = plan_->advertisement_interval_msec;
        e.preempt = plan_->preempt;
        e.notify_command = options_.notify_command;
        e.sync_interface = plan_->sync_interface;
        e.sync_own_address = plan_->sync_address;
        e.sync_peer_address = plan_->peer;
        e.run_directory = options_.run_directory;
        std::vector<std::string> errors;
        for (const auto& [name, text] : {std::pair{"keepalived.conf", render_keepalived_conf(e)},
                                         std::pair{"conntrackd.conf", render_conntrackd_conf(e)}}) {
                const auto path = options_.run_directory / name;
                if (!text.ok()) {
                        errors.push_back(path.string() + ": " + text.error());
                        continue;
                }
                auto written = write_file_atomically(path, text.value(), 0644);
                if (!written.ok())
                        errors.push_back(written.error());
                else if (written.value() == WriteOutcome::Written)
                        spdlog::info("high availability: wrote {}", path.string());
        }
        std::string error = join(errors);
        if (error != files_error_ && !error.empty())
                spdlog::error("high availability: {}", error);
        files_error_ = std::move(error);
}

HighAvailabilityStatus HaController::status(uint64_t realtime_now_usec,
                                            uint64_t monotonic_now_usec) const {
        HighAvailabilityStatus s;
        if (!plan_)
                return s;
        s.role = decision_.role;
        s.vrrp = vrrp_state_name(term_.vrrp);
        s.status = decision_.status;
        if (!notice_.empty())
                s.status += "; " + notice_ + ": this instance is going";
        s.peer = plan_->peer.str();
        s.floating_address = plan_->floating_address.str();
        s.holds_floating_address = address_local_;
        s.route_tables = plan_->route_tables;
        if (term_.vrrp != VrrpState::Unknown)
                s.role_since_usec = realtime_now_usec - (monotonic_now_usec - term_.since_usec);
        s.last_transition_role = last_transition_role_;
        s.last_transition_usec = last_transition_realtime_usec_;
        s.last_transition_duration_usec = last_transition_duration_usec_;
        for (HaStep step : steps_of(term_.vrrp)) {
                const StepProgress& p = term_.step(step);
                s.steps.push_back(
                        {ha_step_name(step), step_state_name(p.state), p.failures, p.error});
        }
        s.ec2_endpoint = ec2_->endpoint();
        s.region = ec2_->region();
        s.instance_role = ec2_->role();
        s.sync_internal_entries = sync_.internal_entries;
        s.sync_external_entries = sync_.external_entries;
        s.sync_packets_sent = sync_.packets_sent;
        s.sync_packets_received = sync_.packets_received;
        s.sync_errors = sync_.send_errors + sync_.receive_errors;
        s.sync_lost_messages = sync_.lost_messages;
        s.sync_error = sync_error_;
        return s;
}

}  // namespace natd
