// natd's record of the files it wrote (/var/lib/natd/files), so that a file
// for an interface name that no longer exists is removed: no stale
// 70-ens6.network.d/natd.conf once the ENI came back as ens7.
//
// The record is read as untrusted input: a line is honoured only when it
// has the shape of a file natd writes (is_persisted_file_path()); any other
// line is logged as "FILE:LINE: ..." and ignored, never deleted, and is
// dropped when the record is next written. Every write and delete is made
// relative to directories reached from --root without following symlinks
// (DirFd); a symlink on the way is an error naming it.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "dir-fd.hpp"
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

        // Removes every recorded file, the record itself and, once empty,
        // its directory.
        Result<SyncResult> remove_all();

        // The record as read: the paths it honours, and a "FILE:LINE:
        // message" for each line it ignores.
        struct Record {
                std::set<std::filesystem::path> paths;
                std::vector<std::string> rejected;
        };
        [[nodiscard]] Record read_record() const;
        [[nodiscard]] std::set<std::filesystem::path> recorded() const {
                return read_record().paths;
        }

        // Read-only: sync(files) would change nothing.
        [[nodiscard]] bool in_sync(const std::vector<PersistedFile>& files) const;
        // The file holds exactly its planned content.
        [[nodiscard]] bool holds(const PersistedFile& file) const;

private:
        [[nodiscard]] Record read_record(const DirFd& root) const;
        Status record(const DirFd& root, const std::set<std::filesystem::path>& paths);

        std::filesystem::path root_;
};

}  // namespace natd
