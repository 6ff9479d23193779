#include "config-dump.hpp"

#include "config-schema.hpp"

namespace natd {

namespace {

void assignment(std::string& out, const ConfigKey& key, const ConfigOrigin& origin,
                const std::string& value) {
        out += "# ";
        out += origin.str();
        out += "\n";
        out += key.name;
        out += "=";
        out += value;
        out += "\n";
}

}  // namespace

std::string format_config_dump(const ConfigLoad& load) {
        std::string out;
        if (load.files.empty()) {
                out += "# natd's effective configuration: no configuration files, every key has "
                       "its default.\n";
        } else {
                out += "# natd's effective configuration, read from:\n";
                for (const auto& file : load.files)
                        out += "#   " + file + "\n";
        }
        out += "# Above each assignment: the file and line it comes from, or \"default\".\n";

        const auto& schema = config_schema();
        std::string_view section;
        for (size_t i = 0; i < schema.size(); ++i) {
                const ConfigKey& key = schema[i];
                const KeyOrigins& origins = load.origins.at(i);
                if (key.section != section) {
                        section = key.section;
                        out += "\n[";
                        out += section;
                        out += "]\n";
                } else {
                        out += "\n";
                }
                out += "# ";
                out += key.documentation;
                out += "\n";
                const auto values = key.format(load.config);
                if (!key.list) {
                        assignment(out, key, origins.value, values.at(0));
                        continue;
                }
                // A list shows its last reset (where it was emptied, or its
                // empty default), then each item where it was added.
                if (!origins.value.is_default() || values.empty())
                        assignment(out, key, origins.value, "");
                for (size_t j = 0; j < values.size(); ++j)
                        assignment(out, key, origins.items.at(j), values[j]);
        }
        return out;
}

}  // namespace natd
