#include "file-registry.hpp"

#include <cerrno>
#include <sstream>

#include <spdlog/spdlog.h>

#include "atomic-file.hpp"
#include "read-file.hpp"

namespace natd {

namespace {

// A path a line: thousands of files would still fit.
constexpr size_t kRegistryMaxSize = size_t{1024} * 1024;
// The record lists paths others must not be able to rewrite or read.
constexpr mode_t kRegistryMode = 0600;

// The directory holding the absolute path `p`, below `root`.
Result<DirFd> parent_of(const DirFd& root, const std::filesystem::path& p, Missing missing) {
        return root.open_below(p.parent_path().relative_path(), missing);
}

std::string name_of(const std::filesystem::path& p) {
        return p.filename().string();
}

// Drop-in directories are natd's to remove once empty; sysctl.d is not.
bool is_dropin(const std::filesystem::path& p) {
        return p.parent_path().parent_path() == kNetworkdConfigDir;
}

// Removes one recorded file; a missing file or directory means it is gone.
Status remove_recorded(const DirFd& root, const std::filesystem::path& p) {
        const auto dropin_dir = name_of(p.parent_path());
        auto dir = is_dropin(p) ? parent_of(root, p.parent_path(), Missing::Fail)
                                : parent_of(root, p, Missing::Fail);
        if (!dir.ok())
                return dir.failure().is(ENOENT) ? Status{Ok{}} : Status{dir.failure()};
        if (!is_dropin(p))
                return remove_file(dir.value(), name_of(p));
        auto inner = dir.value().open_below(dropin_dir, Missing::Fail);
        if (!inner.ok())
                return inner.failure().is(ENOENT) ? Status{Ok{}} : Status{inner.failure()};
        if (auto s = remove_file(inner.value(), name_of(p)); !s.ok())
                return s;
        // Stays while it holds other files (net-utils').
        return dir.value().remove_if_empty(dropin_dir);
}

void remove_stale_temporaries_of(const DirFd& root, const std::filesystem::path& p) {
        // A directory that cannot be reached safely holds nothing of natd's:
        // writing there fails, naming it.
        if (auto dir = parent_of(root, p, Missing::Fail); dir.ok())
                remove_stale_temporaries(dir.value(), name_of(p));
}

}  // namespace

FileRegistry::Record FileRegistry::read_record(const DirFd& root) const {
        Record record;
        auto dir = parent_of(root, kRegistryFile, Missing::Fail);
        if (!dir.ok())
                return record;
        auto text = read_file(dir.value(), name_of(kRegistryFile), kRegistryMaxSize);
        if (!text.ok())
                return record;
        const auto file = (root_ / std::filesystem::path(kRegistryFile).relative_path()).string();
        std::istringstream lines(text.value());
        size_t number = 0;
        for (std::string line; std::getline(lines, line);) {
                ++number;
                if (line.empty() || line.front() == '#')
                        continue;
                if (is_persisted_file_path(line))
                        record.paths.insert(line);
                else
                        record.rejected.push_back(
                                fmt::format("{}:{}: ignoring \"{}\": not a file natd writes", file,
                                            number, line));
        }
        return record;
}

FileRegistry::Record FileRegistry::read_record() const {
        auto root = DirFd::open(root_);
        return root.ok() ? read_record(root.value()) : Record{};
}

bool FileRegistry::holds(const PersistedFile& file) const {
        auto root = DirFd::open(root_);
        if (!root.ok())
                return false;
        auto dir = parent_of(root.value(), file.path, Missing::Fail);
        if (!dir.ok())
                return false;
        // One byte more than planned tells a longer file from an equal one.
        auto text = read_file(dir.value(), name_of(file.path), file.content.size() + 1);
        return text.ok() && text.value() == file.content;
}

bool FileRegistry::in_sync(const std::vector<PersistedFile>& files) const {
        std::set<std::filesystem::path> planned;
        for (const auto& f : files) {
                if (!holds(f))
                        return false;
                planned.insert(f.path);
        }
        // A rejected line is reported and dropped by the next sync.
        const auto record = read_record();
        return record.rejected.empty() && record.paths == planned;
}

Status FileRegistry::record(const DirFd& root, const std::set<std::filesystem::path>& paths) {
        std::string text = "# Files natd wrote; natd removes them when it no longer needs them.\n";
        for (const auto& p : paths)
                text += p.string() + "\n";
        auto dir = parent_of(root, kRegistryFile, Missing::Create);
        if (!dir.ok())
                return dir.failure();
        auto r = write_file_atomically(dir.value(), name_of(kRegistryFile), text, kRegistryMode);
        if (!r.ok())
                return r.failure();
        return Ok{};
}

Result<FileRegistry::SyncResult> FileRegistry::sync(const std::vector<PersistedFile>& files) {
        auto opened = DirFd::open(root_);
        if (!opened.ok())
                return opened.failure();
        const DirFd& root = opened.value();

        SyncResult result;
        const auto read = read_record(root);
        for (const auto& line : read.rejected)
                spdlog::error("{}", line);
        const auto& old = read.paths;
        std::set<std::filesystem::path> planned;
        for (const auto& f : files) {
                if (!is_persisted_file_path(f.path.string()))
                        return Error{f.path.string() + ": not a file natd writes, not writing it"};
                planned.insert(f.path);
        }

        // Record first: a crash after a write still knows the file is natd's.
        auto all = old;
        all.insert(planned.begin(), planned.end());
        // A natd killed in the middle of a write left its temporary file.
        remove_stale_temporaries_of(root, kRegistryFile);
        for (const auto& p : all)
                remove_stale_temporaries_of(root, p);
        if (all != old || !read.rejected.empty())
                if (auto s = record(root, all); !s.ok())
                        return s.failure();

        for (const auto& f : files) {
                auto dir = parent_of(root, f.path, Missing::Create);
                if (!dir.ok())
                        return dir.failure();
                auto w = write_file_atomically(dir.value(), name_of(f.path), f.content);
                if (!w.ok())
                        return w.failure();
                if (w.value() == WriteOutcome::Written)
                        result.written.push_back(f.path);
        }
        // One file that cannot go (a symlink on its way) does not keep the
        // others: it stays recorded, and the sync fails naming it.
        std::vector<std::string> errors;
        auto kept = planned;
        for (const auto& p : old) {
                if (planned.contains(p))
                        continue;
                if (auto s = remove_recorded(root, p); !s.ok()) {
                        errors.push_back(s.error());
                        kept.insert(p);
                        continue;
                }
                result.removed.push_back(p);
        }
        if (kept != all) {
                if (kept.empty()) {
                        auto dir = parent_of(root, kRegistryFile, Missing::Fail);
                        if (!dir.ok() && !dir.failure().is(ENOENT))
                                return dir.failure();
                        if (dir.ok())
                                if (auto s = remove_file(dir.value(), name_of(kRegistryFile));
                                    !s.ok())
                                        return s.failure();
                } else if (auto s = record(root, kept); !s.ok()) {
                        return s.failure();
                }
        }
        if (!errors.empty())
                return status_of(errors).failure();
        return result;
}

Result<FileRegistry::SyncResult> FileRegistry::remove_all() {
        auto result = sync({});
        if (!result.ok())
                return result;
        // The state directory, empty once the record is gone.
        const auto state_dir = std::filesystem::path(kRegistryFile).parent_path();
        auto root = DirFd::open(root_);
        if (!root.ok())
                return root.failure();
        auto parent = parent_of(root.value(), state_dir, Missing::Fail);
        if (!parent.ok())
                return parent.failure().is(ENOENT) ? result : Result<SyncResult>{parent.failure()};
        if (auto s = parent.value().remove_if_empty(name_of(state_dir)); !s.ok())
                return s.failure();
        return result;
}

}  // namespace natd
