// One natd per root: the daemon holds an exclusive lock on
// ROOT/var/lib/natd/lock for as long as it runs, so that a second natd and
// a `natd --teardown` beside it (which would undo what the daemon then
// restores, leaving files and status out of step) are refused instead.
#pragma once

#include <filesystem>
#include <string>

#include "handles.hpp"
#include "result.hpp"

namespace natd {

inline constexpr const char* kLockFile = "/var/lib/natd/lock";

class InstanceLock {
public:
        // Takes the lock without waiting. Fails with EWOULDBLOCK when another
        // process holds it; the message names the file and says what to do.
        static Result<InstanceLock> acquire(const std::filesystem::path& root);

        // Teardown: the lock file goes while still held (with the state
        // directory after it), then the lock is released.
        void remove_file();

private:
        InstanceLock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}

        UniqueFd fd_;  // closing it releases the lock
        std::filesystem::path path_;
};

}  // namespace natd
