// An open directory that natd writes or deletes in, reached from --root one
// component at a time with O_NOFOLLOW: a symlink below --root (a
// "70-ens7.network.d" pointing at /etc) is an error naming it, never a way
// for natd to write or delete outside the directory it means.
#pragma once

#include <filesystem>
#include <string>

#include "handles.hpp"
#include "result.hpp"

namespace natd {

enum class Missing {
        Create,  // directories are made 0755, whatever the umask
        Fail,    // ENOENT: nothing there to remove or read
};

class DirFd {
public:
        // The directory `path` itself. It may be a symlink: --root is the
        // operator's choice, only what lies below it is guarded.
        static Result<DirFd> open(const std::filesystem::path& path);

        // The directory `relative` below this one, never following a
        // symlink. `relative` must not hold ".." or a root.
        [[nodiscard]] Result<DirFd> open_below(const std::filesystem::path& relative,
                                               Missing missing) const;

        // Removes the child directory `name` if it is empty; a missing or
        // non-empty one is fine.
        [[nodiscard]] Status remove_if_empty(const std::string& name) const;

        [[nodiscard]] int get() const { return fd_.get(); }
        // Where this is, for messages.
        [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
        DirFd(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
        [[nodiscard]] Result<DirFd> open_child(const std::string& name, Missing missing) const;

        UniqueFd fd_;
        std::filesystem::path path_;
};

}  // namespace natd
