#include "atomic-file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <random>
#include <sstream>
#include <unistd.h>

#include "error.hpp"
#include "read-file.hpp"

namespace natd {

namespace {

int sys_open(const char* path, int flags, mode_t mode) {
        return ::open(path, flags, mode);
}

Status fsync_directory(const std::filesystem::path& dir, const FileOps& ops) {
        const int fd = ops.open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        if (fd < 0)
                return errno_error("open directory " + dir.string(), errno);
        const int r = ops.fsync(fd);
        const int saved = errno;
        ops.close(fd);
        if (r < 0)
                return errno_error("sync directory " + dir.string(), saved);
        return Ok{};
}

std::string temporary_prefix(const std::filesystem::path& path) {
        // Appended, not `"." + name`: GCC 12 at -O3 warns (-Wrestrict) inside
        // the inlined operator+(const char*, string&&) (GCC bug 105329).
        std::string prefix{"."};
        prefix += path.filename().string();
        prefix += ".natd-";
        return prefix;
}

std::string temporary_name(const std::filesystem::path& path) {
        // Hidden, and not ending in ".conf": neither networkd nor
        // systemd-sysctl picks a leftover up as configuration.
        std::random_device rd;
        std::ostringstream name;
        name << temporary_prefix(path) << std::hex << rd() << rd();
        return (path.parent_path() / name.str()).string();
}

}  // namespace

const FileOps& FileOps::system() {
        static const FileOps ops{sys_open, ::write, ::fsync, ::close, ::rename, ::unlink};
        return ops;
}

size_t remove_stale_temporaries(const std::filesystem::path& path) {
        const std::string prefix = temporary_prefix(path);
        size_t removed = 0;
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(path.parent_path(), ec)) {
                if (entry.path().filename().string().starts_with(prefix) &&
                    std::filesystem::remove(entry.path(), ec))
                        ++removed;
        }
        return removed;
}

Result<WriteOutcome> write_file_atomically(const std::filesystem::path& path,
                                           std::string_view content, mode_t mode,
                                           const FileOps& ops) {
        // Larger than `content` cannot be equal; a symlink is replaced, not
        // compared through; anything unreadable is simply written.
        if (auto old = read_file(path, content.size(), Symlinks::Refuse);
            old.ok() && old.value() == content)
                return WriteOutcome::Unchanged;

        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        if (ec)
                return errno_error("create directory", path.parent_path().string(), ec.value());

        const std::string tmp = temporary_name(path);
        const int fd = ops.open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0)
                return errno_error("create " + tmp, errno);

        auto fail = [&](const std::string& what) -> Result<WriteOutcome> {
                const int saved = errno;
                if (fd >= 0)
                        ops.close(fd);
                ops.unlink(tmp.c_str());
                return errno_error(what, saved);
        };

        for (size_t done = 0; done < content.size();) {
                const ssize_t n = ops.write(fd, content.data() + done, content.size() - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return fail("write " + tmp);
                }
                if (n == 0) {
                        errno = EIO;
                        return fail("write " + tmp);
                }
                done += static_cast<size_t>(n);
        }
        // fchmod is not needed: O_CREAT applied `mode` minus the umask,
        // which natd's unit sets to 0022.
        if (ops.fsync(fd) < 0)
                return fail("sync " + tmp);
        if (ops.close(fd) < 0) {
                const int saved = errno;
                ops.unlink(tmp.c_str());
                return errno_error("close " + tmp, saved);
        }
        if (ops.rename(tmp.c_str(), path.c_str()) < 0) {
                const int saved = errno;
                ops.unlink(tmp.c_str());
                return errno_error("rename " + tmp + " to " + path.string(), saved);
        }
        if (auto s = fsync_directory(path.parent_path(), ops); !s.ok())
                return s.failure();
        return WriteOutcome::Written;
}

Status remove_file(const std::filesystem::path& path) {
        std::error_code ec;
        std::filesystem::remove(path, ec);
        if (ec)
                return errno_error("remove", path.string(), ec.value());
        return Ok{};
}

Status remove_file_and_empty_parent(const std::filesystem::path& path) {
        if (auto s = remove_file(path); !s.ok())
                return s;
        // Fails harmlessly when the directory holds other files (net-utils').
        std::error_code ec;
        std::filesystem::remove(path.parent_path(), ec);
        return Ok{};
}

}  // namespace natd
