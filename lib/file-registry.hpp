// natd's record of the files it wrote (/var/lib/natd/files), so that a file
// for an interface name that no longer exists is removed: no stale
// 70-ens6.network.d/natd.conf once the ENI came back as ens7.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "persisted-files.hpp"
#include "result.hpp"

namespace natd {

inline constexpr const char* kRegistryFile = "/var/lib/natd/files";

class FileRegistry {
public:
        explicit FileRegistry(std::filesystem::path root) : root_(std::move(root)) {}

        struct SyncResult {
                std::vector<std::filesystem::path> written;  // content changed
                std::vector<std::filesystem::path> removed;  // recorded, no longer planned
        };

        // Makes the file system hold exactly `files` among natd's files. The
        // record is always a superset of what is on disk, so a crash at any
        // step is repaired by the next sync.
        Result<SyncResult> sync(const std::vector<PersistedFile>& files);

        // Removes every recorded file and the record itself.
        Result<SyncResult> remove_all() { return sync({}); }

        [[nodiscard]] std::set<std::filesystem::path> recorded() const;

        // Read-only: sync(files) would change nothing.
        [[nodiscard]] bool in_sync(const std::vector<PersistedFile>& files) const;
        // The file holds exactly its planned content.
        [[nodiscard]] bool holds(const PersistedFile& file) const;

private:
        [[nodiscard]] std::filesystem::path under_root(const std::filesystem::path& p) const {
                return root_ / p.relative_path();
        }
        Status record(const std::set<std::filesystem::path>& paths);

        std::filesystem::path root_;
};

}  // namespace natd
