#include "kernel-module.hpp"

#include <filesystem>
#include <sstream>
#include <sys/utsname.h>
#include <system_error>

#include "read-file.hpp"

namespace natd {

namespace {

// modules.builtin of a distribution kernel is ~100 KiB.
constexpr size_t kModulesBuiltinMaxSize = size_t{8} * 1024 * 1024;

bool lists(const std::string& modules_builtin, const std::string& name) {
        const std::string file = name + ".ko";
        std::istringstream lines(modules_builtin);
        for (std::string line; std::getline(lines, line);)
                if (line == file || line.ends_with("/" + file))
                        return true;
        return false;
}

}  // namespace

ModuleKind classify_module(const std::string& name, const ModuleEvidence& evidence) {
        if (evidence.has_initstate)
                return ModuleKind::Loadable;
        if (evidence.in_sysfs)
                return ModuleKind::BuiltIn;
        if (evidence.modules_builtin && lists(*evidence.modules_builtin, name))
                return ModuleKind::BuiltIn;
        return ModuleKind::Loadable;  // not loaded yet
}

ModuleEvidence probe_module(const std::string& name) {
        ModuleEvidence e;
        const std::filesystem::path sys = std::filesystem::path("/sys/module") / name;
        std::error_code ec;
        e.in_sysfs = std::filesystem::is_directory(sys, ec);
        e.has_initstate = e.in_sysfs && std::filesystem::exists(sys / "initstate", ec);
        if (e.in_sysfs)
                return e;
        utsname u{};
        if (uname(&u) != 0)
                return e;
        const std::string path = std::string("/lib/modules/") + u.release + "/modules.builtin";
        if (auto text = read_file(path, kModulesBuiltinMaxSize); text.ok())
                e.modules_builtin = std::move(text.value());
        return e;
}

const char* module_kind_name(ModuleKind kind) {
        switch (kind) {
        case ModuleKind::Loadable:
                return "loadable";
        case ModuleKind::BuiltIn:
                return "built-in";
        }
        return "unknown";
}

}  // namespace natd
