// A temporary directory for tests that touch files, removed afterwards.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace natd::test {

struct ScratchDir {
        std::filesystem::path path;

        ScratchDir() {
                std::string tmpl =
                        (std::filesystem::temp_directory_path() / "natd-test-XXXXXX").string();
                path = mkdtemp(tmpl.data());
        }
        ~ScratchDir() { std::filesystem::remove_all(path); }
        ScratchDir(const ScratchDir&) = delete;
        ScratchDir& operator=(const ScratchDir&) = delete;

        // An absolute path of the target system, under this directory as root.
        [[nodiscard]] std::filesystem::path at(const char* p) const {
                return path / std::filesystem::path(p).relative_path();
        }
        [[nodiscard]] static size_t entries(const std::filesystem::path& dir) {
                size_t n = 0;
                for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir))
                        ++n;
                return n;
        }
};

}  // namespace natd::test
