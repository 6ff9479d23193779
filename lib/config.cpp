#include "config.hpp"

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

#include "config-schema.hpp"
#include "read-file.hpp"

namespace natd {

namespace {

constexpr std::string_view whitespace = " \t\n\v\f\r";

std::string_view trim(std::string_view s) {
        const size_t begin = s.find_first_not_of(whitespace);
        if (begin == std::string_view::npos)
                return {};
        return s.substr(begin, s.find_last_not_of(whitespace) - begin + 1);
}

// Concatenates text pieces. Avoids operator+(const char*, std::string&&),
// which GCC 12 at -O3 misreports as an overlapping memcpy (-Wrestrict, GCC
// bug 105329).
template <typename... Parts>
std::string cat(const Parts&... parts) {
        std::string s;
        (s.append(std::string_view{parts}), ...);
        return s;
}

// Which section the lines being read belong to.
struct Section {
        enum class Kind {
                None,     // before the first header: assignments are errors
                Known,    // one of the schema's sections
                Ignored,  // unknown or malformed header, already reported once
        };
        Kind kind = Kind::None;
        std::string_view name;
};

// `s` safe to print on a terminal or to the journal, and unambiguous: every
// byte outside printable ASCII as \xNN. That covers control characters
// (an ESC would reach the operator's terminal), a stray CR, bytes that are
// not UTF-8, and the invisible ones a paste brings along (a UTF-8 BOM, a
// no-break space), which would otherwise make 'ens5' look valid.
std::string printable(std::string_view s) {
        static constexpr char hex[] = "0123456789abcdef";
        std::string out;
        out.reserve(s.size());
        for (const char ch : s) {
                const auto c = static_cast<unsigned char>(ch);
                if (c >= 0x20 && c < 0x7F) {
                        out += ch;
                        continue;
                }
                out += "\\x";
                out += hex[c >> 4];
                out += hex[c & 0xFU];
        }
        return out;
}

// A message is shown whole up to kShownMax bytes; a longer one (it quotes a
// 1 MB line) as its first and last kShownEnd bytes, which hold the key and
// the reason, around a note of how much was left out.
constexpr size_t kShownMax = 1024;
constexpr size_t kShownEnd = 400;

std::string shown(std::string_view message) {
        if (message.size() <= kShownMax)
                return printable(message);
        return cat(printable(message.substr(0, kShownEnd)), "[... ",
                   std::to_string(message.size() - 2 * kShownEnd), " bytes not shown ...]",
                   printable(message.substr(message.size() - kShownEnd)));
}

bool is_known_section(std::string_view name) {
        const auto& schema = config_schema();
        return std::any_of(schema.begin(), schema.end(),
                           [&](const ConfigKey& k) { return k.section == name; });
}

// Reads the sources against config_schema(): nothing in here knows a key.
class Parser {
public:
        Parser() { load_.origins.resize(config_schema().size()); }

        ConfigLoad run(const std::vector<ConfigSource>& sources) {
                for (const auto& source : sources) {
                        load_.files.push_back(source.name);
                        parse_source(source);
                }
                const auto& schema = config_schema();
                for (size_t i = 0; i < schema.size(); ++i)
                        if (schema[i].deduplicate)
                                schema[i].deduplicate(load_.config, load_.origins[i].items);
                verify();
                return std::move(load_);
        }

private:
        void error(const std::string& file, unsigned line, std::string message) {
                load_.errors.push_back(ConfigError{file, line, std::move(message)});
        }
        void error(const ConfigOrigin& at, std::string message) {
                error(at.file, at.line, std::move(message));
        }

        void parse_source(const ConfigSource& source) {
                std::string_view text = source.text;
                if (text.starts_with("\xEF\xBB\xBF"))  // UTF-8 BOM, as systemd allows
                        text.remove_prefix(3);
                // Every file starts outside any section, as in systemd.
                Section section;
                unsigned line_no = 0;
                size_t pos = 0;
                while (pos < text.size()) {
                        const size_t nl = text.find('\n', pos);
                        const std::string_view raw = text.substr(
                                pos,
                                nl == std::string_view::npos ? std::string_view::npos : nl - pos);
                        pos = nl == std::string_view::npos ? text.size() : nl + 1;
                        ++line_no;
                        // A text file has no NUL: this one is corrupt or not
                        // text. Said at its line (a C string would have cut
                        // the line, or the file, there), and the lines after
                        // it are still read.
                        if (const size_t nul = raw.find('\0'); nul != std::string_view::npos) {
                                error(source.name, line_no,
                                      cat("NUL byte at column ", std::to_string(nul + 1),
                                          ": a configuration file is text; line not read"));
                                continue;
                        }
                        parse_line(source.name, line_no, trim(raw), section);
                }
        }

        void parse_line(const std::string& file, unsigned line, std::string_view l,
                        Section& section) {
                if (l.empty() || l.front() == '#' || l.front() == ';')
                        return;
                // systemd joins a line ending in '\' with the next; natd does
                // not, and would otherwise take the '\' as part of the value
                // (a selector "ens5\" that matches nothing).
                if (l.back() == '\\') {
                        error(file, line,
                              "line ends in '\\': continuation lines are not supported, write "
                              "the assignment on one line");
                        return;
                }
                if (l.front() == '[') {
                        if (l.size() < 3 || l.back() != ']') {
                                error(file, line,
                                      cat("invalid section header '", l, "': expected [Section]"));
                                section = {Section::Kind::Ignored, {}};
                                return;
                        }
                        const std::string_view name = l.substr(1, l.size() - 2);
                        if (is_known_section(name)) {
                                section = {Section::Kind::Known, name};
                        } else {
                                error(file, line, cat("unknown section [", name, "]"));
                                section = {Section::Kind::Ignored, {}};
                        }
                        return;
                }
                const size_t eq = l.find('=');
                if (eq == std::string_view::npos) {
                        error(file, line, cat("missing '=' in line '", l, "'"));
                        return;
                }
                const std::string_view key = trim(l.substr(0, eq));
                const std::string_view value = trim(l.substr(eq + 1));
                if (key.empty()) {
                        error(file, line, "missing key name before '='");
                        return;
                }
                switch (section.kind) {
                case Section::Kind::None:
                        error(file, line, "assignment outside of any section");
                        return;
                case Section::Kind::Ignored:
                        return;
                case Section::Kind::Known:
                        assign(section.name, key, value, ConfigOrigin{file, line, ++order_});
                        return;
                }
        }

        void assign(std::string_view section, std::string_view name, std::string_view value,
                    const ConfigOrigin& at) {
                const auto& schema = config_schema();
                const auto row =
                        std::find_if(schema.begin(), schema.end(), [&](const ConfigKey& k) {
                                return k.section == section && k.name == name;
                        });
                if (row == schema.end()) {
                        error(at, cat("unknown key '", name, "' in section [", section, "]"));
                        return;
                }
                const ConfigKey& key = *row;
                KeyOrigins& origins = load_.origins[static_cast<size_t>(row - schema.begin())];
                Config& config = load_.config;
                if (value.empty()) {
                        key.reset(config);
                        origins = KeyOrigins{at, {}};
                        return;
                }
                if (!key.list) {
                        // The origin moves only with the value: a rejected
                        // assignment leaves the previous one responsible.
                        if (auto r = key.assign(config, value); !r)
                                error(at, r.error());
                        else
                                origins.value = at;
                        return;
                }
                // Every bad item is reported, the good ones are kept.
                while (!value.empty()) {
                        const std::string_view item =
                                value.substr(0, value.find_first_of(whitespace));
                        value = trim(value.substr(item.size()));
                        auto added = key.assign(config, item);
                        if (!added)
                                error(at, added.error());
                        else if (added.value())
                                origins.items.push_back(at);
                }
        }

        template <auto Member>
        const KeyOrigins& origins_of() const {
                return load_.origins[config_key_index<Member>()];
        }

        // Checks that need the final values: each error points at the
        // assignment that made the combination impossible.
        void verify() {
                const Config& c = load_.config;

                if (!c.private_selector)
                        verify_single_eni();
                else if (c.public_selector == *c.private_selector) {
                        const ConfigOrigin& public_at =
                                origins_of<&Config::public_selector>().value;
                        const ConfigOrigin& private_at =
                                origins_of<&Config::private_selector>().value;
                        const bool private_later = private_at.order >= public_at.order;
                        const ConfigOrigin& at = private_later ? private_at : public_at;
                        const ConfigOrigin& other = private_later ? public_at : private_at;
                        const char* key = private_later ? "Private" : "Public";
                        const char* other_key = private_later ? "Public" : "Private";
                        const std::string other_where =
                                other.is_default() ? "the default" : cat("set at ", other.str());
                        error(at,
                              cat(key, "=", c.public_selector.str(),
                                  " selects the same interface as ", other_key, "= (", other_where,
                                  "); the public and private interfaces must differ"));
                }

                const auto& subnet_at = origins_of<&Config::subnets>().items;
                const Ipv4Cidr everything{};
                // Duplicates were dropped and /0 has its own error: what
                // overlaps here is a mistake, reported at the later of the
                // two, in the order of the configuration.
                const auto pairs = overlapping_subnets(c.subnets);
                auto pair = pairs.begin();
                for (size_t j = 0; j < c.subnets.size(); ++j) {
                        if (c.subnets[j] == everything)
                                error(subnet_at[j],
                                      "0.0.0.0/0 in Subnets= would hijack every destination; "
                                      "list the private subnets instead");
                        for (; pair != pairs.end() && pair->second == j; ++pair) {
                                const size_t i = pair->first;
                                error(subnet_at[j],
                                      cat("subnets ", c.subnets[i].str(), " (", subnet_at[i].str(),
                                          ") and ", c.subnets[j].str(),
                                          " overlap; list each network once"));
                        }
                }

                if (c.gateway) {
                        const char* problem = nullptr;
                        const uint32_t g = c.gateway->host_order();
                        if (g == 0)
                                problem = "the unspecified address";
                        else if (g == 0xffffffffU)
                                problem = "the broadcast address";
                        else if ((g >> 28) == 0xe)
                                problem = "a multicast address";
                        else if ((g >> 24) == 127)
                                problem = "a loopback address";
                        if (problem)
                                error(origins_of<&Config::gateway>().value,
                                      cat("Gateway=", c.gateway->str(), " is ", problem,
                                          ", not a usable next hop"));
                }
                verify_high_availability();
        }

        // [HighAvailability]: a pair needs its peer, the address it floats
        // and the route tables it moves; without Peer= the other keys would
        // silently do nothing.
        void verify_high_availability() {
                const Config& c = load_.config;
                const ConfigOrigin& peer_at = origins_of<&Config::ha_peer>().value;
                if (!c.ha_peer) {
                        auto unused = [&](const ConfigOrigin& at, const char* key) {
                                error(at, cat("[HighAvailability] ", key,
                                              " without Peer=: there is no pair"));
                        };
                        if (c.ha_floating_address)
                                unused(origins_of<&Config::ha_floating_address>().value,
                                       "FloatingAddress=");
                        for (const auto& at : origins_of<&Config::ha_route_tables>().items)
                                unused(at, "RouteTables=");
                        return;
                }
                if (!c.private_selector)
                        error(peer_at, "[HighAvailability] Peer= needs a private ENI (VRRP and "
                                       "the routes of the pair use it); Private=none is "
                                       "single-ENI mode");
                if (!c.ha_floating_address)
                        error(peer_at, "[HighAvailability] Peer= needs FloatingAddress=: the "
                                       "secondary private address the active NAT holds");
                else if (*c.ha_floating_address == *c.ha_peer)
                        error(origins_of<&Config::ha_floating_address>().value,
                              "FloatingAddress= is the peer's own address; it must be a "
                              "secondary address of the public subnet");
                if (c.imds == ImdsMode::No)
                        error(origins_of<&Config::imds>().value,
                              cat("IMDS=no with [HighAvailability] Peer= (", peer_at.str(),
                                  "): the pair needs the metadata service for the ENI ids, the "
                                  "region and the instance role's credentials"));
                if (c.ha_route_tables.empty())
                        error(peer_at, "[HighAvailability] Peer= needs RouteTables=: the private "
                                       "route tables whose 0.0.0.0/0 the active NAT owns");
                const auto& addresses_at = origins_of<&Config::nat_addresses>().items;
                for (size_t i = 0; i < c.nat_addresses.size(); ++i)
                        error(addresses_at[i],
                              cat("[NAT] Addresses= with [HighAvailability] Peer= (", peer_at.str(),
                                  "): the pair SNATs to FloatingAddress="));
        }

        // Private=none: the public ENI relays, and only for SourceCIDRs=;
        // there is no private ENI to route back through.
        void verify_single_eni() {
                const Config& c = load_.config;
                const ConfigOrigin& none_at = origins_of<&Config::private_selector>().value;
                // With IMDS they default to the VPC's CIDR blocks (plan.cpp).
                if (c.source_cidrs.empty() && c.imds == ImdsMode::No)
                        error(none_at, cat("Private=none (single-ENI mode) with IMDS=no needs "
                                           "[NAT] SourceCIDRs=: the networks the NAT relays for, "
                                           "e.g. the VPC's CIDR blocks"));
                const auto& subnet_at = origins_of<&Config::subnets>().items;
                for (size_t i = 0; i < c.subnets.size(); ++i)
                        error(subnet_at[i],
                              cat("Subnets=", c.subnets[i].str(), " with Private=none (",
                                  none_at.str(),
                                  "): a single-ENI NAT has no return routes (the VPC routes to "
                                  "the private subnets); list them in [NAT] SourceCIDRs="));
                if (c.gateway)
                        error(origins_of<&Config::gateway>().value,
                              cat("Gateway= with Private=none (", none_at.str(),
                                  "): a single-ENI NAT has no return routes"));
        }

        ConfigLoad load_;
        size_t order_ = 0;
};

// A file that could not be read, as "FILE: REASON". read_file() words its
// failures "PATH: REASON": keep REASON, the ConfigError names the file.
ConfigError read_error(const std::filesystem::path& path, const Error& failure) {
        const std::string prefix = cat(path.string(), ": ");
        std::string reason = failure.message.starts_with(prefix)
                                     ? failure.message.substr(prefix.size())
                                     : failure.message;
        return ConfigError{path.string(), 0, std::move(reason)};
}

// The *.conf names in the drop-in directory, sorted; whatever the entries
// are but directories: reading them says what is wrong with the rest.
std::vector<std::string> dropin_names(const std::filesystem::path& dir,
                                      std::vector<ConfigError>& errors) {
        std::vector<std::string> names;
        std::error_code ec;
        std::filesystem::directory_iterator it{dir, ec};
        if (ec) {
                if (ec != std::errc::no_such_file_or_directory)
                        errors.push_back(ConfigError{dir.string(), 0, ec.message()});
                return names;
        }
        for (; it != std::filesystem::directory_iterator{}; it.increment(ec)) {
                if (ec)
                        break;
                std::string name = it->path().filename().string();
                // Like a shell glob, *.conf does not match hidden files.
                if (name.starts_with('.') || !name.ends_with(".conf"))
                        continue;
                // A directory (or a symlink to one) is not a drop-in. Anything
                // else is read: a dangling symlink, a loop or a FIFO is an error.
                std::error_code status_ec;
                if (it->is_directory(status_ec))
                        continue;
                names.push_back(std::move(name));
        }
        if (ec)
                errors.push_back(ConfigError{dir.string(), 0, ec.message()});
        std::sort(names.begin(), names.end());
        return names;
}

bool is_a_symlink(const std::filesystem::path& path) {
        std::error_code ec;
        return std::filesystem::is_symlink(path, ec);
}

}  // namespace

// What is printed is made safe (printable(), shown()): messages quote what
// the file says, which may be anything, and a file name may hold a newline.
std::string ConfigError::str() const {
        if (line == 0)
                return cat(printable(file), ": ", shown(message));
        return cat(printable(file), ":", std::to_string(line), ": ", shown(message));
}

std::vector<std::pair<size_t, size_t>> overlapping_subnets(const std::vector<Ipv4Cidr>& subnets) {
        // Two CIDR blocks overlap only when one contains the other. Sorted by
        // network address, the larger block first, each subnet comes after
        // every subnet that contains it, and those are exactly what is left
        // of a stack of the enclosing blocks seen so far, once the ones that
        // end before it are popped. The stack holds a chain of nested blocks,
        // at most 33; each subnet is pushed and popped once: O(n log n) for
        // the sort, where comparing every pair took 100,000 subnets minutes.
        const Ipv4Cidr everything{};
        std::vector<size_t> order;
        order.reserve(subnets.size());
        for (size_t i = 0; i < subnets.size(); ++i)
                if (subnets[i] != everything)  // /0 contains all: its own error
                        order.push_back(i);
        // (Plain numbers: see sort_key() in config-schema.hpp.)
        const auto key = [&](size_t i) {
                return std::pair{subnets[i].network().address().host_order(),
                                 subnets[i].prefix_len()};
        };
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
        std::vector<size_t> enclosing;
        std::vector<std::pair<size_t, size_t>> pairs;
        for (const size_t k : order) {
                const Ipv4Address start = subnets[k].network().address();
                while (!enclosing.empty() && !subnets[enclosing.back()].contains(start))
                        enclosing.pop_back();
                for (const size_t e : enclosing)
                        pairs.emplace_back(std::min(e, k), std::max(e, k));
                enclosing.push_back(k);
        }
        std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
                return std::pair{a.second, a.first} < std::pair{b.second, b.first};
        });
        return pairs;
}

std::string ConfigOrigin::str() const {
        if (is_default())
                return "default";
        return cat(file, ":", std::to_string(line));
}

ConfigLoad parse_config(const std::vector<ConfigSource>& sources) {
        return Parser{}.run(sources);
}

std::filesystem::path ConfigLocation::dropin_dir() const {
        std::filesystem::path dir = main_file;
        dir += ".d";
        return dir;
}

ConfigLoad load_config(const ConfigLocation& where) {
        std::vector<ConfigSource> sources;
        std::vector<ConfigError> io_errors;

        auto main_text = read_file(where.main_file, kConfigFileMaxSize);
        if (main_text)
                sources.push_back({where.main_file.string(), std::move(main_text).value()});
        else if (!main_text.failure().is(ENOENT) || where.main_file_required ||
                 is_a_symlink(where.main_file))  // dangling: someone meant a file there
                io_errors.push_back(read_error(where.main_file, main_text.failure()));

        const auto dir = where.dropin_dir();
        for (const auto& name : dropin_names(dir, io_errors)) {
                const auto path = dir / name;
                auto text = read_file(path, kConfigFileMaxSize);
                if (text)
                        sources.push_back({path.string(), std::move(text).value()});
                else
                        io_errors.push_back(read_error(path, text.failure()));
        }

        ConfigLoad load = parse_config(sources);
        // I/O errors first: they explain why later errors may be missing.
        load.errors.insert(load.errors.begin(), io_errors.begin(), io_errors.end());
        return load;
}

bool ConfigPaths::take_option(int option, const char* argument) {
        switch (option) {
        case 'c':
                config_file = argument;
                config_given = true;
                return true;
        case 'r':
                root = argument;
                return true;
        default:
                return false;
        }
}

}  // namespace natd
