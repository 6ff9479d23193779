#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "config-schema.hpp"

using natd::Config;
using natd::config_schema;
using natd::ConfigKey;

namespace {

using Strings = std::vector<std::string>;

std::string source_file(const char* relative) {
        std::ifstream in(std::string(NATD_SOURCE_DIR) + "/" + relative);
        REQUIRE(in.good());
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
}

Strings lines_of(const std::string& text) {
        Strings lines;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);)
                lines.push_back(line);
        return lines;
}

std::string upper(std::string_view s) {
        std::string u(s);
        std::transform(u.begin(), u.end(), u.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        return u;
}

// The keys natd.conf(5) documents, as "[Section] Key=": each ".BI Key= ..."
// (or ".B Key=") under a ".SH [SECTION] SECTION" header.
std::set<std::string> man_page_keys() {
        std::set<std::string> keys;
        std::string section;  // as the schema spells it, "" outside key sections
        for (const auto& line : lines_of(source_file("doc/man/natd.conf.5"))) {
                if (line.starts_with(".SH ")) {
                        section.clear();
                        for (const auto& key : config_schema())
                                if (line == ".SH [" + upper(key.section) + "] SECTION")
                                        section = key.section;
                        continue;
                }
                if (section.empty() || !(line.starts_with(".BI ") || line.starts_with(".B ")))
                        continue;
                const auto start = line.find(' ') + 1;
                const auto eq = line.find('=', start);
                if (eq != std::string::npos && line.find(' ', start) > eq)
                        keys.insert("[" + section + "] " + line.substr(start, eq - start + 1));
        }
        return keys;
}

// The keys in README.md's table: rows "| `[Section] Key=` | ...".
std::set<std::string> readme_keys() {
        std::set<std::string> keys;
        for (const auto& line : lines_of(source_file("README.md"))) {
                if (!line.starts_with("| `["))
                        continue;
                const auto end = line.find('`', 3);
                REQUIRE(end != std::string::npos);
                keys.insert(line.substr(3, end - 3));
        }
        return keys;
}

std::set<std::string> schema_keys() {
        std::set<std::string> keys;
        for (const auto& key : config_schema())
                keys.insert(key.str());
        return keys;
}

}  // namespace

TEST_CASE("every key is documented in natd.conf(5) and the README, and nothing else is",
          "[config-schema]") {
        const auto keys = schema_keys();
        REQUIRE(keys.size() == config_schema().size());  // no key twice
        CHECK(man_page_keys() == keys);
        CHECK(readme_keys() == keys);
}

TEST_CASE("the schema: sections together, documented, defaults that read back", "[config-schema]") {
        const auto& schema = config_schema();
        std::set<std::string_view> finished;  // sections already left behind
        std::string_view current;
        for (const auto& key : schema) {
                CAPTURE(key.str());
                if (key.section != current) {
                        CHECK_FALSE(finished.contains(key.section));
                        finished.insert(current);
                        current = key.section;
                }
                CHECK_FALSE(key.documentation.empty());
                CHECK(key.documentation.find('\n') == std::string_view::npos);
                // The default, written out and read back, is the default.
                const Config defaults;
                Config c;
                key.reset(c);
                for (const auto& value : key.format(defaults))
                        if (!value.empty())
                                REQUIRE(key.assign(c, value).ok());
                CHECK(c == defaults);
                CHECK(key.field(c) != nullptr);
        }
}

TEST_CASE("config_key_index finds a key by its member", "[config-schema]") {
        const auto& schema = config_schema();
        CHECK(schema[natd::config_key_index<&Config::public_selector>()].str() ==
              "[Interfaces] Public=");
        CHECK(schema[natd::config_key_index<&Config::private_selector>()].str() ==
              "[Interfaces] Private=");
        CHECK(schema[natd::config_key_index<&Config::subnets>()].str() == "[Routes] Subnets=");
        CHECK(schema[natd::config_key_index<&Config::gateway>()].str() == "[Routes] Gateway=");
}

TEST_CASE("value types for keys to come: enums and numbers in a range", "[config-schema]") {
        enum class Policy { Drop, Accept };
        const auto policy =
                natd::enum_value<Policy>({{"drop", Policy::Drop}, {"accept", Policy::Accept}});
        CHECK(policy.parse("accept", "ForwardPolicy").value() == Policy::Accept);
        CHECK(policy.parse("drop", "ForwardPolicy").value() == Policy::Drop);
        CHECK(policy.parse("Drop", "ForwardPolicy").error() ==
              "invalid value 'Drop' in ForwardPolicy=: expected drop|accept");
        CHECK(policy.format(Policy::Accept) == "accept");

        const auto max = natd::number_value<unsigned>(1, 65535);
        CHECK(max.parse("1", "Max").value() == 1);
        CHECK(max.parse("65535", "Max").value() == 65535);
        CHECK(max.parse("0", "Max").error() == "invalid number '0' in Max=: out of range 1..65535");
        CHECK(max.parse("65536", "Max").error() ==
              "invalid number '65536' in Max=: out of range 1..65535");
        CHECK(max.parse("99999999999999999999", "Max").error() ==
              "invalid number '99999999999999999999' in Max=: out of range 1..65535");
        CHECK(max.parse("-1", "Max").error() ==
              "invalid number '-1' in Max=: expected a decimal integer 1..65535");
        CHECK(max.parse("12k", "Max").error() ==
              "invalid number '12k' in Max=: expected a decimal integer 1..65535");
        CHECK(max.format(1500) == "1500");
}
