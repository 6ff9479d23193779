// Commands natd runs to drive the engines it configures (conntrackd -c,
// -n), on the sd-event loop: started with posix_spawn, their output
// (stdout and stderr, up to 64 KiB) collected from a pipe, reaped through
// an sd-event child source, killed when they overrun their time. Nothing
// blocks the loop. The loop's owner must block SIGCHLD (Manager does).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include <systemd/sd-event.h>

#include "handles.hpp"
#include "result.hpp"

namespace natd {

struct ChildOutcome {
        int exit_status = -1;  // -1: killed by a signal (or the timeout)
        int signal = 0;
        bool timed_out = false;
        std::string output;  // stdout and stderr, interleaved
};

// "conntrackd -C F -c" as logs and errors show a command.
std::string command_line(const std::vector<std::string>& argv);

// Ok only for exit status 0; otherwise "COMMAND exited N: OUTPUT" (or
// "was killed by signal N", "timed out after N ms"), the output's last line.
Result<std::string> child_result(const std::vector<std::string>& argv, const ChildOutcome& outcome,
                                 uint64_t timeout_usec);

class ChildProcesses {
public:
        using Callback = std::function<void(Result<std::string> output)>;

        explicit ChildProcesses(sd_event* event) : event_(event) {}
        // Children still running are killed; their callbacks do not run.
        ~ChildProcesses();
        ChildProcesses(const ChildProcesses&) = delete;
        ChildProcesses& operator=(const ChildProcesses&) = delete;

        // Runs argv[0] (an absolute path) with argv; `done` runs once, from
        // the loop. An error here (it could not start) means it never runs.
        Status start(const std::vector<std::string>& argv, uint64_t timeout_usec, Callback done);
        [[nodiscard]] std::size_t running() const { return children_.size(); }

private:
        struct Child {
                ChildProcesses* owner = nullptr;
                std::vector<std::string> argv;
                uint64_t timeout_usec = 0;
                pid_t pid = 0;
                Callback done;
                ChildOutcome outcome;
                UniqueFd output;
                SdEventSourcePtr exit_source;
                SdEventSourcePtr output_source;
                SdEventSourcePtr timer;
        };
        static int on_exit(sd_event_source* source, const siginfo_t* info, void* child);
        static int on_output(sd_event_source* source, int fd, uint32_t revents, void* child);
        static int on_timeout(sd_event_source* source, uint64_t usec, void* child);
        static void drain(Child& child);

        sd_event* event_;
        std::map<pid_t, std::unique_ptr<Child>> children_;
};

}  // namespace natd
