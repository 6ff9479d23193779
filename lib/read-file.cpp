#include "read-file.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handles.hpp"

namespace natd {

namespace {

Error failure(const std::filesystem::path& path, std::string_view reason, int errno_value) {
        std::string text = path.string();
        text += ": ";
        text += reason;
        return Error{std::move(text), errno_value};
}

Error errno_failure(const std::filesystem::path& path, int errno_value) {
        return failure(path, std::strerror(errno_value), errno_value);
}

const char* type_name(mode_t mode) {
        if (S_ISFIFO(mode))
                return "FIFO";
        if (S_ISSOCK(mode))
                return "socket";
        if (S_ISCHR(mode))
                return "character device";
        if (S_ISBLK(mode))
                return "block device";
        if (S_ISLNK(mode))
                return "symbolic link";
        return "unknown file type";
}

Error not_regular(const std::filesystem::path& path, mode_t mode, int errno_value) {
        std::string reason = "not a regular file (";
        reason += type_name(mode);
        reason += ")";
        return failure(path, reason, errno_value);
}

std::string size_text(std::size_t bytes) {
        constexpr std::size_t kib = 1024;
        if (bytes >= kib * kib && bytes % (kib * kib) == 0)
                return std::to_string(bytes / (kib * kib)) + " MiB";
        if (bytes >= kib && bytes % kib == 0)
                return std::to_string(bytes / kib) + " KiB";
        return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

Error too_large(const std::filesystem::path& path, std::size_t max_size) {
        return failure(path, "too large: more than " + size_text(max_size), EFBIG);
}

}  // namespace

namespace {

// `name` relative to `dir_fd`; `path` is what messages call it.
Result<std::string> read_file_in(int dir_fd, const char* name, const std::filesystem::path& path,
                                 std::size_t max_size, Symlinks symlinks) {
        // O_NONBLOCK: opening a FIFO without a writer returns at once (and a
        // tty does not wait for carrier); O_NOCTTY: natd gets no terminal.
        int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
        if (symlinks == Symlinks::Refuse)
                flags |= O_NOFOLLOW;
        const UniqueFd fd{::openat(dir_fd, name, flags)};
        if (fd.get() < 0) {
                const int err = errno;
                struct stat st {};
                // O_NOFOLLOW's ELOOP also means a loop further up the path:
                // say which.
                if (err == ELOOP && symlinks == Symlinks::Refuse &&
                    ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                        return failure(path, "is a symbolic link", ELOOP);
                // A socket (or a device without a driver) cannot be opened.
                if (err == ENXIO && ::fstatat(dir_fd, name, &st, 0) == 0 && !S_ISREG(st.st_mode))
                        return not_regular(path, st.st_mode, ENXIO);
                return errno_failure(path, err);
        }

        struct stat st {};
        if (::fstat(fd.get(), &st) < 0)
                return errno_failure(path, errno);
        if (S_ISDIR(st.st_mode))
                return errno_failure(path, EISDIR);
        if (!S_ISREG(st.st_mode))
                return not_regular(path, st.st_mode, EBADFD);
        if (static_cast<std::uintmax_t>(st.st_size) > max_size)
                return too_large(path, max_size);

        // The file may grow after fstat(): stop one byte past the limit.
        std::string content;
        char buf[8192];
        for (;;) {
                const ssize_t n = ::read(fd.get(), buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno_failure(path, errno);
                if (n == 0)
                        break;
                content.append(buf, static_cast<std::size_t>(n));
                if (content.size() > max_size)
                        return too_large(path, max_size);
        }
        return content;
}

}  // namespace

Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_size,
                              Symlinks symlinks) {
        return read_file_in(AT_FDCWD, path.c_str(), path, max_size, symlinks);
}

Result<std::string> read_file(const DirFd& dir, const std::string& name, std::size_t max_size,
                              Symlinks symlinks) {
        return read_file_in(dir.get(), name.c_str(), dir.path() / name, max_size, symlinks);
}

}  // namespace natd
