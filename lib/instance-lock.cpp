#include "instance-lock.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include "dir-fd.hpp"
#include "error.hpp"

namespace natd {

Result<InstanceLock> InstanceLock::acquire(const std::filesystem::path& root) {
        const std::filesystem::path relative = std::filesystem::path(kLockFile).relative_path();
        const std::filesystem::path path = root / relative;
        // The state directory is reached as natd's other files are: no
        // symlink below --root is followed, directories are made 0755.
        auto top = DirFd::open(root);
        if (!top.ok())
                return top.failure();
        auto dir = top.value().open_below(relative.parent_path(), Missing::Create);
        if (!dir.ok())
                return dir.failure();
        const int fd = ::openat(dir.value().get(), relative.filename().c_str(),
                                O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return errno_error("open", path.string(), errno);
        // 0600 whatever the umask.
        if (::fchmod(fd, 0600) != 0) {
                const int e = errno;
                ::close(fd);
                return errno_error("chmod", path.string(), e);
        }
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
                const int e = errno;
                ::close(fd);
                if (e == EWOULDBLOCK)
                        return Error{"natd is running (it holds " + path.string() +
                                             "): stop it first (systemctl stop natd); "
                                             "natd-ctl teardown goes through a natd on the "
                                             "system bus",
                                     e};
                return errno_error("flock", path.string(), e);
        }
        return InstanceLock(fd, path);
}

void InstanceLock::remove_file() {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
}

}  // namespace natd
