// Files natd persists (sysctl.d, networkd drop-ins, its own state) are
// replaced atomically: a temporary file in the same directory, fsync,
// rename over the target, fsync of the directory. A crash at any point
// leaves either the old content or the new, never a truncated file. Every
// call works relative to a DirFd, so no symlink is followed on the way.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "dir-fd.hpp"
#include "result.hpp"

namespace natd {

// The system calls the writer makes, replaceable so tests can fail each one.
struct FileOps {
        int (*openat)(int dir_fd, const char* name, int flags, mode_t mode);
        ssize_t (*write)(int fd, const void* buf, size_t count);
        int (*fsync)(int fd);
        int (*close)(int fd);
        int (*renameat)(int from_dir, const char* from, int to_dir, const char* to);
        int (*unlinkat)(int dir_fd, const char* name, int flags);

        static const FileOps& system();
};

enum class WriteOutcome { Unchanged, Written };

// Writes `content` to the file `name` in `dir` unless it already holds
// exactly that (networkd reconfigures a link whose drop-in merely changed
// its mtime). The file gets `mode`, whatever the umask. On failure the old
// file is untouched and no temporary file is left behind.
Result<WriteOutcome> write_file_atomically(const DirFd& dir, const std::string& name,
                                           std::string_view content, mode_t mode = 0644,
                                           const FileOps& ops = FileOps::system());

// The same for an absolute `path`, creating its missing parent directories
// (for tests and tools; natd's own files go through FileRegistry).
Result<WriteOutcome> write_file_atomically(const std::filesystem::path& path,
                                           std::string_view content, mode_t mode = 0644,
                                           const FileOps& ops = FileOps::system());

// Removes what a writer killed mid-write left next to `name` in `dir`: its
// hidden temporary files (".<name>.natd-*"). Returns how many went.
size_t remove_stale_temporaries(const DirFd& dir, const std::string& name);

// Removes the file `name` in `dir`; a missing one is fine.
Status remove_file(const DirFd& dir, const std::string& name);

}  // namespace natd
