#include "dir-fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include "error.hpp"

namespace natd {

namespace {

// O_RDONLY rather than O_PATH: the writer fsyncs the directory and fchmods
// the ones it creates.
constexpr int kDirectoryFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
constexpr mode_t kDirectoryMode = 0755;

Error refused(const std::filesystem::path& path, const char* reason, int errno_value) {
        return Error{path.string() + ": " + reason, errno_value};
}

}  // namespace

Result<DirFd> DirFd::open(const std::filesystem::path& path) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno_error("open directory", path.string(), errno);
        return DirFd{fd, path};
}

Result<DirFd> DirFd::open_child(const std::string& name, Missing missing) const {
        const auto path = path_ / name;
        int fd = ::openat(fd_.get(), name.c_str(), kDirectoryFlags);
        if (fd < 0 && errno == ENOENT && missing == Missing::Create) {
                if (::mkdirat(fd_.get(), name.c_str(), kDirectoryMode) < 0 && errno != EEXIST)
                        return errno_error("create directory", path.string(), errno);
                fd = ::openat(fd_.get(), name.c_str(), kDirectoryFlags);
                // The umask took bits off: put them back, on what was opened.
                if (fd >= 0 && ::fchmod(fd, kDirectoryMode) < 0) {
                        const int saved = errno;
                        ::close(fd);
                        return errno_error("set the mode of", path.string(), saved);
                }
        }
        if (fd >= 0)
                return DirFd{fd, path};
        const int err = errno;
        struct stat st {};
        // ELOOP for a symlink under O_NOFOLLOW; ENOTDIR for one to a file.
        if ((err == ELOOP || err == ENOTDIR) &&
            ::fstatat(fd_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (S_ISLNK(st.st_mode))
                        return refused(path, "is a symbolic link, not writing through it", ELOOP);
                if (!S_ISDIR(st.st_mode))
                        return refused(path, "not a directory", ENOTDIR);
        }
        return errno_error("open directory", path.string(), err);
}

Result<DirFd> DirFd::open_below(const std::filesystem::path& relative, Missing missing) const {
        if (relative.has_root_path())
                return refused(relative, "not a relative path", EINVAL);
        Result<DirFd> dir = DirFd{::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0), path_};
        if (dir.value().get() < 0)
                return errno_error("duplicate the descriptor of", path_.string(), errno);
        for (const auto& component : relative) {
                const auto name = component.string();
                if (name.empty() || name == ".")  // a trailing "/", or here
                        continue;
                if (name == "..")
                        return refused(path_ / relative, R"(holds "..")", EINVAL);
                dir = dir.value().open_child(name, missing);
                if (!dir.ok())
                        return dir;
        }
        return dir;
}

Status DirFd::remove_if_empty(const std::string& name) const {
        if (::unlinkat(fd_.get(), name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT &&
            errno != ENOTEMPTY && errno != EEXIST)
                return errno_error("remove directory", (path_ / name).string(), errno);
        return Ok{};
}

}  // namespace natd
