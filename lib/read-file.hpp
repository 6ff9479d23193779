// natd's one way of reading a file: the whole content, and never blocking.
// natd reads files others may have put in its way (natd.conf and its
// drop-ins, networkd's link state); a FIFO there must not hang natd's one
// event loop in open(), where it would no longer even notice SIGTERM.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "dir-fd.hpp"
#include "result.hpp"

namespace natd {

enum class Symlinks {
        Follow,  // as systemd reads configuration; a loop is an error (ELOOP)
        Refuse,  // the path itself must not be a symlink (ELOOP)
};

// The content of the regular file at `path`, at most `max_size` bytes.
// Opens with O_NONBLOCK, so a FIFO or device is refused rather than waited
// on. Failures carry the errno and read "PATH: REASON":
//   ENOENT, EACCES, ... : strerror ("No such file or directory")
//   EISDIR              : "Is a directory"
//   EBADFD              : "not a regular file (FIFO)", "(character device)"
//   ENXIO               : "not a regular file (socket)": open() refused it
//   ELOOP               : "is a symbolic link" (Refuse), or a symlink loop
//   EFBIG               : "too large: more than 1 MiB"
Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_size,
                              Symlinks symlinks = Symlinks::Follow);
// The file `name` in `dir`, which was reached without following symlinks.
Result<std::string> read_file(const DirFd& dir, const std::string& name, std::size_t max_size,
                              Symlinks symlinks = Symlinks::Refuse);

}  // namespace natd
