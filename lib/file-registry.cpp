#include "file-registry.hpp"

#include <sstream>

#include "atomic-file.hpp"
#include "read-file.hpp"

namespace natd {

namespace {

// A path a line: thousands of files would still fit.
constexpr size_t kRegistryMaxSize = size_t{1024} * 1024;

}  // namespace

std::set<std::filesystem::path> FileRegistry::recorded() const {
        std::set<std::filesystem::path> paths;
        auto text = read_file(under_root(kRegistryFile), kRegistryMaxSize);
        if (!text.ok())
                return paths;
        std::istringstream lines(text.value());
        for (std::string line; std::getline(lines, line);)
                if (!line.empty() && line.front() == '/')
                        paths.insert(line);
        return paths;
}

bool FileRegistry::holds(const PersistedFile& file) const {
        // One byte more than planned tells a longer file from an equal one.
        auto text = read_file(under_root(file.path), file.content.size() + 1, Symlinks::Refuse);
        return text.ok() && text.value() == file.content;
}

bool FileRegistry::in_sync(const std::vector<PersistedFile>& files) const {
        std::set<std::filesystem::path> planned;
        for (const auto& f : files) {
                if (!holds(f))
                        return false;
                planned.insert(f.path);
        }
        return recorded() == planned;
}

Status FileRegistry::record(const std::set<std::filesystem::path>& paths) {
        std::string text = "# Files natd wrote; natd removes them when it no longer needs them.\n";
        for (const auto& p : paths)
                text += p.string() + "\n";
        auto r = write_file_atomically(under_root(kRegistryFile), text);
        if (!r.ok())
                return r.failure();
        return Ok{};
}

Result<FileRegistry::SyncResult> FileRegistry::sync(const std::vector<PersistedFile>& files) {
        SyncResult result;
        const auto old = recorded();
        std::set<std::filesystem::path> planned;
        for (const auto& f : files)
                planned.insert(f.path);

        // Record first: a crash after a write still knows the file is natd's.
        auto all = old;
        all.insert(planned.begin(), planned.end());
        // A natd killed in the middle of a write left its temporary file.
        remove_stale_temporaries(under_root(kRegistryFile));
        for (const auto& p : all)
                remove_stale_temporaries(under_root(p));
        if (all != old)
                if (auto s = record(all); !s.ok())
                        return s.failure();

        for (const auto& f : files) {
                auto w = write_file_atomically(under_root(f.path), f.content);
                if (!w.ok())
                        return w.failure();
                if (w.value() == WriteOutcome::Written)
                        result.written.push_back(f.path);
        }
        for (const auto& p : old) {
                if (planned.contains(p))
                        continue;
                // Drop-in directories are natd's to remove once empty; sysctl.d is not.
                const bool dropin = p.parent_path().extension() == ".d" &&
                                    p.parent_path().parent_path() == kNetworkdConfigDir;
                const auto path = under_root(p);
                if (auto s = dropin ? remove_file_and_empty_parent(path) : remove_file(path);
                    !s.ok())
                        return s.failure();
                result.removed.push_back(p);
        }
        if (planned != all) {
                if (planned.empty()) {
                        if (auto s = remove_file(under_root(kRegistryFile)); !s.ok())
                                return s.failure();
                } else if (auto s = record(planned); !s.ok()) {
                        return s.failure();
                }
        }
        return result;
}

}  // namespace natd
