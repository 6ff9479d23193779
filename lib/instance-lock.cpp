#include "instance-lock.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.hpp"

namespace natd {

namespace {

// mkdir -p with 0755 whatever the umask: natd's state directory.
Status make_directories(const std::filesystem::path& dir) {
        std::filesystem::path at;
        for (const auto& part : dir) {
                at /= part;
                if (::mkdir(at.c_str(), 0755) == 0) {
                        if (::chmod(at.c_str(), 0755) != 0)
                                return errno_error("chmod", at.string(), errno);
                } else if (errno != EEXIST) {
                        return errno_error("mkdir", at.string(), errno);
                }
        }
        return Ok{};
}

}  // namespace

Result<InstanceLock> InstanceLock::acquire(const std::filesystem::path& root) {
        const std::filesystem::path path = root / std::filesystem::path(kLockFile).relative_path();
        if (auto s = make_directories(path.parent_path()); !s.ok())
                return s.failure();
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return errno_error("open", path.string(), errno);
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

InstanceLock::InstanceLock(InstanceLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

InstanceLock& InstanceLock::operator=(InstanceLock&& other) noexcept {
        if (this != &other) {
                if (fd_ >= 0)
                        ::close(fd_);
                fd_ = std::exchange(other.fd_, -1);
                path_ = std::move(other.path_);
        }
        return *this;
}

InstanceLock::~InstanceLock() {
        if (fd_ >= 0)
                ::close(fd_);  // releases the lock
}

void InstanceLock::remove_file() {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
}

}  // namespace natd
