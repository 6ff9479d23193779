#include "config-commands.hpp"

#include "config-dump.hpp"
#include "exit-codes.hpp"

namespace natd {

namespace {

// True when valid; else the errors on `err`.
bool report(const ConfigLoad& load, std::FILE* err) {
        for (const auto& e : load.errors)
                std::fprintf(err, "%s\n", e.str().c_str());
        if (load.ok())
                return true;
        std::fprintf(err, "natd: configuration invalid, nothing applied\n");
        return false;
}

}  // namespace

std::optional<Config> load_valid_config(const ConfigLocation& where, std::FILE* err) {
        ConfigLoad load = load_config(where);
        if (!report(load, err))
                return std::nullopt;
        return std::move(load.config);
}

int check_config(const ConfigLocation& where, std::FILE* out, std::FILE* err) {
        if (!load_valid_config(where, err))
                return kExitUsage;
        std::fprintf(out, "%s: configuration valid\n", where.main_file.c_str());
        return kExitSuccess;
}

int dump_config(const ConfigLocation& where, std::FILE* out, std::FILE* err) {
        const ConfigLoad load = load_config(where);
        if (!report(load, err))
                return kExitUsage;
        std::fputs(format_config_dump(load).c_str(), out);
        return kExitSuccess;
}

}  // namespace natd
