#include "child-process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace natd {

namespace {

constexpr std::size_t kMaxOutput = std::size_t{64} * 1024;

std::string last_line(std::string text) {
        while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
                text.pop_back();
        const auto newline = text.rfind('\n');
        return newline == std::string::npos ? text : text.substr(newline + 1);
}

// posix_spawn's attributes and file actions, freed however start() ends.
struct SpawnSetup {
        posix_spawnattr_t attributes{};
        posix_spawn_file_actions_t actions{};
        bool attributes_ok = false;
        bool actions_ok = false;
        SpawnSetup() = default;
        SpawnSetup(const SpawnSetup&) = delete;
        SpawnSetup& operator=(const SpawnSetup&) = delete;
        ~SpawnSetup() {
                if (attributes_ok)
                        posix_spawnattr_destroy(&attributes);
                if (actions_ok)
                        posix_spawn_file_actions_destroy(&actions);
        }
};

}  // namespace

std::string command_line(const std::vector<std::string>& argv) {
        return join(argv, " ");
}

Result<std::string> child_result(const std::vector<std::string>& argv, const ChildOutcome& outcome,
                                 uint64_t timeout_usec) {
        if (outcome.exit_status == 0)
                return outcome.output;
        std::string why = command_line(argv);
        if (outcome.timed_out)
                why += " timed out after " + std::to_string(timeout_usec / 1000) + " ms";
        else if (outcome.signal != 0)
                why += " was killed by signal " + std::to_string(outcome.signal);
        else
                why += " exited " + std::to_string(outcome.exit_status);
        const std::string said = last_line(outcome.output);
        if (!said.empty())
                why += ": " + said;
        return Error{why, EIO};
}

ChildProcesses::~ChildProcesses() {
        for (auto& [pid, child] : children_) {
                kill(pid, SIGKILL);
                // Reaped here: the source that would have is going.
                waitpid(pid, nullptr, 0);
        }
}

Status ChildProcesses::start(const std::vector<std::string>& argv, uint64_t timeout_usec,
                             Callback done) {
        if (argv.empty() || !argv[0].starts_with('/'))
                return Error{"not an absolute command: " + command_line(argv)};
        int pipe_fds[2] = {-1, -1};
        if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
                return errno_error("create a pipe for", command_line(argv), errno);
        UniqueFd read_end(pipe_fds[0]);
        UniqueFd write_end(pipe_fds[1]);

        SpawnSetup setup;
        setup.attributes_ok = posix_spawnattr_init(&setup.attributes) == 0;
        setup.actions_ok = posix_spawn_file_actions_init(&setup.actions) == 0;
        if (!setup.attributes_ok || !setup.actions_ok)
                return Error{"posix_spawn setup failed for " + command_line(argv)};
        // The child starts with natd's blocked signals unblocked and their
        // default dispositions, its own process group, /dev/null as stdin.
        sigset_t none;
        sigemptyset(&none);
        sigset_t defaults;
        sigemptyset(&defaults);
        for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE})
                sigaddset(&defaults, sig);
        posix_spawnattr_setsigmask(&setup.attributes, &none);
        posix_spawnattr_setsigdefault(&setup.attributes, &defaults);
        posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                            POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&setup.attributes, 0);
        posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&setup.actions, write_end.get(), 1);
        posix_spawn_file_actions_adddup2(&setup.actions, write_end.get(), 2);

        std::vector<char*> args;
        args.reserve(argv.size() + 1);
        for (const auto& a : argv)
                args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        pid_t pid = 0;
        if (int r = posix_spawn(&pid, argv[0].c_str(), &setup.actions, &setup.attributes,
                                args.data(), environ);
            r != 0)
                return errno_error("run", command_line(argv), r);
        write_end.reset();

        auto child = std::make_unique<Child>();
        child->owner = this;
        child->argv = argv;
        child->timeout_usec = timeout_usec;
        child->pid = pid;
        child->done = std::move(done);
        child->output = std::move(read_end);
        Child* c = child.get();
        children_.emplace(pid, std::move(child));
        auto give_up = [&](const char* what, int r) -> Status {
                // Without its sources nobody would reap it: do it now.
                kill(pid, SIGKILL);
                waitpid(pid, nullptr, 0);
                children_.erase(pid);
                return errno_error(what, command_line(argv), -r);
        };
        sd_event_source* source = nullptr;
        if (int r = sd_event_add_child(event_, &source, pid, WEXITED, &ChildProcesses::on_exit, c);
            r < 0)
                return give_up("watch", r);
        c->exit_source.reset(source);
        if (int r = sd_event_add_io(event_, &source, c->output.get(), EPOLLIN,
                                    &ChildProcesses::on_output, c);
            r < 0)
                return give_up("read the output of", r);
        c->output_source.reset(source);
        if (int r = sd_event_add_time_relative(event_, &source, CLOCK_MONOTONIC, timeout_usec, 1000,
                                               &ChildProcesses::on_timeout, c);
            r < 0)
                return give_up("arm the timeout of", r);
        c->timer.reset(source);
        return Ok{};
}

void ChildProcesses::drain(Child& child) {
        char buffer[4096];
        for (;;) {
                const ssize_t n = read(child.output.get(), buffer, sizeof buffer);
                if (n <= 0)
                        return;  // EAGAIN, or the end: every writer has gone
                const std::size_t room =
                        kMaxOutput - std::min(kMaxOutput, child.outcome.output.size());
                child.outcome.output.append(buffer, std::min(room, static_cast<std::size_t>(n)));
        }
}

int ChildProcesses::on_output(sd_event_source* source, int /*fd*/, uint32_t revents, void* child) {
        auto* c = static_cast<Child*>(child);
        drain(*c);
        // Hung up (the child and whatever it forked closed the pipe): no
        // more events from it.
        if ((revents & (EPOLLHUP | EPOLLERR)) != 0)
                sd_event_source_set_enabled(source, SD_EVENT_OFF);
        return 0;
}

int ChildProcesses::on_timeout(sd_event_source* /*source*/, uint64_t /*usec*/, void* child) {
        auto* c = static_cast<Child*>(child);
        c->outcome.timed_out = true;
        kill(c->pid, SIGKILL);  // on_exit reports it
        return 0;
}

int ChildProcesses::on_exit(sd_event_source* /*source*/, const siginfo_t* info, void* child) {
        auto* c = static_cast<Child*>(child);
        drain(*c);
        if (info->si_code == CLD_EXITED) {
                c->outcome.exit_status = info->si_status;
        } else {
                c->outcome.exit_status = -1;
                c->outcome.signal = info->si_status;
        }
        ChildProcesses* owner = c->owner;
        auto node = owner->children_.extract(c->pid);
        auto result = child_result(node.mapped()->argv, node.mapped()->outcome,
                                   node.mapped()->timeout_usec);
        Callback done = std::move(node.mapped()->done);
        // The sources go with the node, after this callback returns to
        // sd-event (which allows freeing the running source).
        done(std::move(result));
        return 0;
}

}  // namespace natd
