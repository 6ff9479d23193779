// The imperative shell of the high-availability pair: keeps the term
// keepalived's last notify began (ha-role.hpp decides its steps), runs the
// steps on natd's event loop — conntrackd commands (child-process.hpp),
// the floating address over rtnetlink with gratuitous ARP
// (floating-address.hpp), the EC2 API (ec2-client.hpp), IMDS for the
// confirmation — and writes keepalived's and conntrackd's files from the
// plan (ha-engines.hpp). It tells its owner whenever the decision changed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "child-process.hpp"
#include "conntrackd-stats.hpp"
#include "daemon-status.hpp"
#include "ec2-client.hpp"
#include "ha-plan.hpp"
#include "ha-role.hpp"
#include "handles.hpp"
#include "imds-client.hpp"
#include "netlink-socket.hpp"
#include "result.hpp"

namespace natd {

struct HaControllerOptions {
        std::filesystem::path run_directory = "/run/natd/ha";  // keepalived.conf, conntrackd.conf
        std::string conntrackd = "/usr/sbin/conntrackd";
        // keepalived's notify hook: this + " master|backup|fault|stop".
        std::string notify_command = "/usr/bin/natd-ctl ha notify";
        std::string imds_endpoint = "http://169.254.169.254";
        uint64_t command_timeout_usec = 10'000'000;
        BackoffPolicy retry{200'000, 10'000'000};
};

class HaController {
public:
        static Result<std::unique_ptr<HaController>>
        create(sd_event* event, HaControllerOptions options, std::function<void()> changed);
        HaController(const HaController&) = delete;
        HaController& operator=(const HaController&) = delete;
        ~HaController();

        // The plan's pair. The engines' files follow it; a changed pair (new
        // ENI ids, a new floating address) starts the current role again.
        void set_plan(const HaPlan& plan);
        // keepalived said so (natd-ctl ha notify): a new term, unless it
        // repeats the current one.
        void notify(VrrpState state);
        // What the link table shows of the floating address.
        void observe(bool address_local);
        // natd-ctl ha handover: the active NAT lets the peer take over (and
        // holds on until it has); an error unless this NAT is active.
        Status handover();

        [[nodiscard]] const HaDecision& decision() const { return decision_; }
        [[nodiscard]] HighAvailabilityStatus status(uint64_t realtime_now_usec,
                                                    uint64_t monotonic_now_usec) const;
        // Why the engines' files could not be written, or empty.
        [[nodiscard]] const std::string& files_error() const { return files_error_; }
        // Role changes completed since natd started.
        [[nodiscard]] uint64_t transitions() const { return transitions_; }

private:
        HaController(sd_event* event, HaControllerOptions options, std::function<void()> changed,
                     NetlinkSocket rtnl, std::unique_ptr<ImdsClient> imds,
                     std::unique_ptr<Ec2Client> ec2);
        [[nodiscard]] uint64_t now_usec() const;
        // decide_ha() again; starts what it says, arms the retry timer.
        void step();
        void start(HaStep s);
        void finished(HaStep s, uint64_t term_id, const Status& result);
        void write_engine_files();
        void commit_conntrack(uint64_t term_id);
        void replace_routes(uint64_t term_id);
        void confirm(uint64_t term_id);
        void look_at_routes(HaStep s, uint64_t term_id);
        // keepalived's track files (ha-engines.hpp): "handover", "yield".
        void write_track_file(const char* name, unsigned value);
        [[nodiscard]] std::string conntrackd_config() const;
        static int on_timer(sd_event_source* source, uint64_t usec, void* self);
        // Spot interruption and scale-in: IMDS asked every kNoticePollUsec;
        // a notice makes the active NAT hand over first.
        void poll_notices();
        void noticed(const std::string& notice);
        static int on_notice_timer(sd_event_source* source, uint64_t usec, void* self);

        sd_event* event_;
        HaControllerOptions options_;
        std::function<void()> changed_;
        NetlinkSocket rtnl_;
        std::unique_ptr<ImdsClient> imds_;
        std::unique_ptr<Ec2Client> ec2_;
        ChildProcesses children_;
        std::optional<HaPlan> plan_;
        HaTerm term_;
        // Bumped with every term: a step that ends after its term did is
        // dropped.
        uint64_t term_id_ = 0;
        bool address_local_ = false;
        bool handover_requested_ = false;
        HaDecision decision_;
        std::string files_error_;
        // The last completed role change: when it began and how long it took.
        uint64_t last_transition_realtime_usec_ = 0;
        uint64_t last_transition_duration_usec_ = 0;
        std::string last_transition_role_;
        uint64_t transitions_ = 0;
        SdEventSourcePtr timer_;
        SdEventSourcePtr notice_timer_;
        std::string notice_;  // the spot or scale-in notice seen, for status
        ConntrackdStats sync_;
        std::string sync_error_ = "not asked yet";
        std::minstd_rand jitter_;
};

}  // namespace natd
