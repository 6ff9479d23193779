// The regression replay: a main() for a fuzz target built without libFuzzer
// (the ordinary gcc build), running LLVMFuzzerTestOneInput once on every
// file named, or in a directory named, on the command line. ctest runs it
// over fuzz/corpus/TARGET and fuzz/regressions/TARGET (fuzz/CMakeLists.txt),
// so every seed and every past finding stays a test without clang. A crash
// is the failure; a missing directory is none (a target may have no
// regressions yet).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool replay(const std::filesystem::path& file) {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
                std::fprintf(stderr, "%s: cannot be read\n", file.c_str());
                return false;
        }
        const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                         std::istreambuf_iterator<char>()};
        // Named on stderr first, so a crash's output says which input it was.
        std::fprintf(stderr, "replaying %s\n", file.c_str());
        LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
        return true;
}

}  // namespace

int main(int argc, char** argv) {
        size_t replayed = 0;
        bool ok = true;
        for (int i = 1; i < argc; ++i) {
                const std::filesystem::path arg(argv[i]);
                std::error_code ec;
                if (!std::filesystem::exists(arg, ec))
                        continue;
                if (!std::filesystem::is_directory(arg, ec)) {
                        ok = replay(arg) && ok;
                        ++replayed;
                        continue;
                }
                // In name order, so a run is the same everywhere.
                std::vector<std::filesystem::path> files;
                for (const auto& entry : std::filesystem::directory_iterator(arg))
                        if (entry.is_regular_file())
                                files.push_back(entry.path());
                std::sort(files.begin(), files.end());
                for (const auto& f : files) {
                        ok = replay(f) && ok;
                        ++replayed;
                }
        }
        std::printf("%zu inputs replayed\n", replayed);
        // No input at all means the corpus path is wrong, not that all passed.
        if (replayed == 0) {
                std::fprintf(stderr, "no input found\n");
                return 1;
        }
        return ok ? 0 : 1;
}
