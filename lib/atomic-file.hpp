// Files natd persists (sysctl.d, networkd drop-ins, its own state) are
// replaced atomically: a temporary file in the same directory, fsync,
// rename over the target, fsync of the directory. A crash at any point
// leaves either the old content or the new, never a truncated file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "result.hpp"

namespace natd {

// The system calls the writer makes, replaceable so tests can fail each one.
struct FileOps {
        int (*open)(const char* path, int flags, mode_t mode);
        ssize_t (*write)(int fd, const void* buf, size_t count);
        int (*fsync)(int fd);
        int (*close)(int fd);
        int (*rename)(const char* from, const char* to);
        int (*unlink)(const char* path);

        static const FileOps& system();
};

enum class WriteOutcome { Unchanged, Written };

// Writes `content` to `path` unless it already holds exactly that (networkd
// reconfigures a link whose drop-in merely changed its mtime). Creates the
// parent directories. On failure the old file is untouched and no temporary
// file is left behind.
Result<WriteOutcome> write_file_atomically(const std::filesystem::path& path,
                                           std::string_view content, mode_t mode = 0644,
                                           const FileOps& ops = FileOps::system());

// Removes what a writer killed mid-write left next to `path`: its hidden
// temporary files (".<name>.natd-*"). Returns how many went.
size_t remove_stale_temporaries(const std::filesystem::path& path);

// Removes a file; a missing one is fine.
Status remove_file(const std::filesystem::path& path);

// remove_file(), then the parent directory if that is now empty, so no
// empty "70-ens6.network.d/" is left behind.
Status remove_file_and_empty_parent(const std::filesystem::path& path);

}  // namespace natd
