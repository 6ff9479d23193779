#include "atomic-file.hpp"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <random>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "error.hpp"
#include "read-file.hpp"

namespace natd {

namespace {

int sys_openat(int dir_fd, const char* name, int flags, mode_t mode) {
        return ::openat(dir_fd, name, flags, mode);
}

std::string temporary_prefix(const std::string& name) {
        // Appended, not `"." + name`: GCC 12 at -O3 warns (-Wrestrict) inside
        // the inlined operator+(const char*, string&&) (GCC bug 105329).
        std::string prefix{"."};
        prefix += name;
        prefix += ".natd-";
        return prefix;
}

std::string temporary_name(const std::string& name) {
        // Hidden, and not ending in ".conf": neither networkd nor
        // systemd-sysctl picks a leftover up as configuration.
        std::random_device rd;
        std::ostringstream tmp;
        tmp << temporary_prefix(name) << std::hex << rd() << rd();
        return tmp.str();
}

struct CloseDir {
        void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, CloseDir>;

// An unchanged file keeps its content, not a mode a looser umask gave it
// (an older natd run by hand).
Status restore_mode(const DirFd& dir, const std::string& name, mode_t mode) {
        const int fd = ::openat(dir.get(), name.c_str(),
                                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return errno_error("open", (dir.path() / name).string(), errno);
        struct stat st {};
        int r = ::fstat(fd, &st);
        if (r == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) != mode)
                r = ::fchmod(fd, mode);
        const int saved = errno;
        ::close(fd);
        if (r < 0)
                return errno_error("set the mode of", (dir.path() / name).string(), saved);
        return Ok{};
}

}  // namespace

const FileOps& FileOps::system() {
        static const FileOps ops{sys_openat, ::write, ::fsync, ::close, ::renameat, ::unlinkat};
        return ops;
}

size_t remove_stale_temporaries(const DirFd& dir, const std::string& name) {
        const std::string prefix = temporary_prefix(name);
        // fdopendir() takes the descriptor over: give it its own.
        const int fd = ::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        const DirPtr entries{::fdopendir(fd)};
        if (!entries) {
                ::close(fd);
                return 0;
        }
        size_t removed = 0;
        while (const dirent* entry = ::readdir(entries.get())) {
                const std::string_view entry_name{static_cast<const char*>(entry->d_name)};
                if (entry_name.starts_with(prefix) && ::unlinkat(dir.get(), entry->d_name, 0) == 0)
                        ++removed;
        }
        return removed;
}

Result<WriteOutcome> write_file_atomically(const DirFd& dir, const std::string& name,
                                           std::string_view content, mode_t mode,
                                           const FileOps& ops) {
        const auto path = (dir.path() / name).string();
        // Larger than `content` cannot be equal; a symlink is replaced, not
        // compared through; anything unreadable is simply written.
        if (auto old = read_file(dir, name, content.size(), Symlinks::Refuse);
            old.ok() && old.value() == content) {
                if (auto s = restore_mode(dir, name, mode); !s.ok())
                        return s.failure();
                return WriteOutcome::Unchanged;
        }

        const std::string tmp = temporary_name(name);
        const std::string tmp_path = (dir.path() / tmp).string();
        const int fd = ops.openat(dir.get(), tmp.c_str(),
                                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return errno_error("create " + tmp_path, errno);

        auto fail = [&](const std::string& what) -> Result<WriteOutcome> {
                const int saved = errno;
                ops.close(fd);
                ops.unlinkat(dir.get(), tmp.c_str(), 0);
                return errno_error(what, saved);
        };

        // The umask is the invoker's (natd --once from a shell): the mode is not.
        if (::fchmod(fd, mode) < 0)
                return fail("set the mode of " + tmp_path);
        for (size_t done = 0; done < content.size();) {
                const ssize_t n = ops.write(fd, content.data() + done, content.size() - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return fail("write " + tmp_path);
                }
                if (n == 0) {
                        errno = EIO;
                        return fail("write " + tmp_path);
                }
                done += static_cast<size_t>(n);
        }
        if (ops.fsync(fd) < 0)
                return fail("sync " + tmp_path);
        if (ops.close(fd) < 0) {
                const int saved = errno;
                ops.unlinkat(dir.get(), tmp.c_str(), 0);
                return errno_error("close " + tmp_path, saved);
        }
        if (ops.renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) < 0) {
                const int saved = errno;
                ops.unlinkat(dir.get(), tmp.c_str(), 0);
                return errno_error("rename " + tmp_path + " to " + path, saved);
        }
        if (ops.fsync(dir.get()) < 0)
                return errno_error("sync directory " + dir.path().string(), errno);
        return WriteOutcome::Written;
}

Result<WriteOutcome> write_file_atomically(const std::filesystem::path& path,
                                           std::string_view content, mode_t mode,
                                           const FileOps& ops) {
        // The part of the path that exists is taken as it is (a symlinked
        // TMPDIR); the directories created below it get their mode.
        auto existing = path.parent_path();
        std::error_code ec;
        while (!std::filesystem::is_directory(existing, ec) && existing.has_relative_path())
                existing = existing.parent_path();
        auto top = DirFd::open(existing);
        if (!top.ok())
                return top.failure();
        auto dir = top.value().open_below(path.parent_path().lexically_relative(existing),
                                          Missing::Create);
        if (!dir.ok())
                return dir.failure();
        return write_file_atomically(dir.value(), path.filename().string(), content, mode, ops);
}

Status remove_file(const DirFd& dir, const std::string& name) {
        if (::unlinkat(dir.get(), name.c_str(), 0) < 0 && errno != ENOENT)
                return errno_error("remove", (dir.path() / name).string(), errno);
        return Ok{};
}

}  // namespace natd
