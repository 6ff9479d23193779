#include "config.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>
#include <utility>

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

// The parsers say "invalid THING 'TEXT': REASON". Config errors name the key
// between the text and the reason, so keep only REASON (or everything, should
// a parser ever word it differently: better repetitive than lost).
std::string reason_of(const std::string& message, std::string_view text) {
        const std::string marker = cat("'", text, "': ");
        const size_t pos = message.find(marker);
        return pos == std::string::npos ? message : message.substr(pos + marker.size());
}

// Where a value came from, so that errors found only once every file has been
// read still point at the assignment responsible.
struct Origin {
        std::string file;
        unsigned line = 0;  // 0: never assigned, the built-in default
        size_t seq = 0;     // assignment order across all sources

        [[nodiscard]] std::string where() const { return cat(file, ":", std::to_string(line)); }
};

enum class Section {
        None,  // before the first header: assignments are errors
        Interfaces,
        Routes,
        Ignored,  // unknown or malformed header, already reported once
};

class Parser {
public:
        ConfigLoad run(const std::vector<ConfigSource>& sources) {
                for (const auto& source : sources)
                        parse_source(source);
                verify();
                return std::move(load_);
        }

private:
        void error(const std::string& file, unsigned line, std::string message) {
                load_.errors.push_back(ConfigError{file, line, std::move(message)});
        }
        void error(const Origin& at, std::string message) {
                error(at.file, at.line, std::move(message));
        }

        void parse_source(const ConfigSource& source) {
                std::string_view text = source.text;
                if (text.starts_with("\xEF\xBB\xBF"))  // UTF-8 BOM, as systemd allows
                        text.remove_prefix(3);
                // Every file starts outside any section, as in systemd.
                Section section = Section::None;
                unsigned line_no = 0;
                size_t pos = 0;
                while (pos < text.size()) {
                        const size_t nl = text.find('\n', pos);
                        const std::string_view raw = text.substr(
                                pos,
                                nl == std::string_view::npos ? std::string_view::npos : nl - pos);
                        pos = nl == std::string_view::npos ? text.size() : nl + 1;
                        ++line_no;
                        parse_line(source.name, line_no, trim(raw), section);
                }
        }

        void parse_line(const std::string& file, unsigned line, std::string_view l,
                        Section& section) {
                if (l.empty() || l.front() == '#' || l.front() == ';')
                        return;
                if (l.front() == '[') {
                        if (l.size() < 3 || l.back() != ']') {
                                error(file, line,
                                      cat("invalid section header '", l, "': expected [Section]"));
                                section = Section::Ignored;
                                return;
                        }
                        const std::string_view name = l.substr(1, l.size() - 2);
                        if (name == "Interfaces") {
                                section = Section::Interfaces;
                        } else if (name == "Routes") {
                                section = Section::Routes;
                        } else {
                                error(file, line, cat("unknown section [", name, "]"));
                                section = Section::Ignored;
                        }
                        return;
                }
                const size_t eq = l.find('=');
                if (eq == std::string_view::npos) {
                        error(file, line, "missing '=' in line");
                        return;
                }
                const std::string_view key = trim(l.substr(0, eq));
                const std::string_view value = trim(l.substr(eq + 1));
                if (key.empty()) {
                        error(file, line, "missing key name before '='");
                        return;
                }
                switch (section) {
                case Section::None:
                        error(file, line, "assignment outside of any section");
                        return;
                case Section::Ignored:
                        return;
                case Section::Interfaces:
                case Section::Routes:
                        assign(section, key, value, Origin{file, line, ++seq_});
                        return;
                }
        }

        void assign(Section section, std::string_view key, std::string_view value,
                    const Origin& at) {
                Config& c = load_.config;
                if (section == Section::Interfaces) {
                        if (key == "Public")
                                assign_selector(key, value, at, c.public_selector,
                                                Config{}.public_selector, public_origin_);
                        else if (key == "Private")
                                assign_selector(key, value, at, c.private_selector,
                                                Config{}.private_selector, private_origin_);
                        else if (key == "WaitTimeoutSec")
                                assign_timeout(value, at);
                        else
                                error(at, cat("unknown key '", key, "' in section [Interfaces]"));
                } else {
                        if (key == "Subnets")
                                assign_subnets(value, at);
                        else if (key == "Gateway")
                                assign_gateway(value, at);
                        else
                                error(at, cat("unknown key '", key, "' in section [Routes]"));
                }
        }

        void assign_selector(std::string_view key, std::string_view value, const Origin& at,
                             Selector& target, const Selector& fallback, Origin& origin) {
                // The origin moves only with the value: a rejected assignment
                // leaves the previous one responsible.
                if (value.empty()) {
                        target = fallback;
                        origin = at;
                        return;
                }
                auto s = Selector::parse(value);
                if (!s) {
                        // Selector::parse() reads a ':' as "this is a MAC address".
                        const char* what = value.find(':') != std::string_view::npos
                                                   ? "invalid MAC address '"
                                                   : "invalid selector '";
                        error(at,
                              cat(what, value, "' in ", key, "=: ", reason_of(s.error(), value)));
                        return;
                }
                target = std::move(s).value();
                origin = at;
        }

        void assign_timeout(std::string_view value, const Origin& at) {
                if (value.empty()) {
                        load_.config.wait_timeout = Config{}.wait_timeout;
                        return;
                }
                auto t = parse_timespan(value);
                if (!t) {
                        error(at, cat("invalid time span '", value,
                                      "' in WaitTimeoutSec=: ", reason_of(t.error(), value)));
                        return;
                }
                load_.config.wait_timeout = t.value();
        }

        void assign_subnets(std::string_view value, const Origin& at) {
                auto& subnets = load_.config.subnets;
                if (value.empty()) {
                        subnets.clear();
                        subnet_origins_.clear();
                        return;
                }
                while (!value.empty()) {
                        const size_t end = value.find_first_of(whitespace);
                        const std::string_view item = value.substr(0, end);
                        value = trim(value.substr(item.size()));
                        auto cidr = Ipv4Cidr::parse(item);
                        if (!cidr) {
                                error(at, cat("invalid CIDR '", item,
                                              "' in Subnets=: ", reason_of(cidr.error(), item)));
                                continue;
                        }
                        // An interface address pasted where a subnet belongs: say
                        // which subnet it is in rather than guess.
                        if (!cidr.value().is_network()) {
                                error(at, cat("'", item,
                                              "' in Subnets= has host bits set; did you mean ",
                                              cidr.value().network().str(), "?"));
                                continue;
                        }
                        if (std::find(subnets.begin(), subnets.end(), cidr.value()) !=
                            subnets.end())
                                continue;
                        subnets.push_back(cidr.value());
                        subnet_origins_.push_back(at);
                }
        }

        void assign_gateway(std::string_view value, const Origin& at) {
                if (value.empty()) {
                        load_.config.gateway = Config{}.gateway;
                        gateway_origin_ = at;
                        return;
                }
                auto a = Ipv4Address::parse(value);
                if (!a) {
                        error(at, cat("invalid address '", value,
                                      "' in Gateway=: ", reason_of(a.error(), value)));
                        return;
                }
                load_.config.gateway = a.value();
                gateway_origin_ = at;
        }

        // Checks that need the final values: each error points at the
        // assignment that made the combination impossible.
        void verify() {
                const Config& c = load_.config;

                if (c.public_selector == c.private_selector) {
                        const bool private_later = private_origin_.seq >= public_origin_.seq;
                        const Origin& at = private_later ? private_origin_ : public_origin_;
                        const Origin& other = private_later ? public_origin_ : private_origin_;
                        const char* key = private_later ? "Private" : "Public";
                        const char* other_key = private_later ? "Public" : "Private";
                        const std::string other_where =
                                other.line == 0 ? "the default" : cat("set at ", other.where());
                        error(at,
                              cat(key, "=", c.public_selector.str(),
                                  " selects the same interface as ", other_key, "= (", other_where,
                                  "); the public and private interfaces must differ"));
                }

                const Ipv4Cidr everything{};
                for (size_t j = 0; j < c.subnets.size(); ++j) {
                        if (c.subnets[j] == everything) {
                                error(subnet_origins_[j],
                                      "0.0.0.0/0 in Subnets= would hijack every destination; "
                                      "list the private subnets instead");
                                continue;
                        }
                        for (size_t i = 0; i < j; ++i) {
                                // Duplicates were dropped while parsing and /0 has
                                // its own error: what overlaps here is a mistake.
                                if (c.subnets[i] == everything ||
                                    !c.subnets[i].overlaps(c.subnets[j]))
                                        continue;
                                error(subnet_origins_[j],
                                      cat("subnets ", c.subnets[i].str(), " (",
                                          subnet_origins_[i].where(), ") and ", c.subnets[j].str(),
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
                                error(gateway_origin_, cat("Gateway=", c.gateway->str(), " is ",
                                                           problem, ", not a usable next hop"));
                }
        }

        ConfigLoad load_;
        Origin public_origin_;
        Origin private_origin_;
        Origin gateway_origin_;
        std::vector<Origin> subnet_origins_;  // parallel to load_.config.subnets
        size_t seq_ = 0;
};

// The whole file, or the errno that stopped reading it. POSIX rather than
// iostreams: errors must say why ("Permission denied", "Is a directory").
int read_file(const std::filesystem::path& path, std::string& out) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno;
        out.clear();
        char buf[8192];
        int err = 0;
        for (;;) {
                const ssize_t n = ::read(fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        err = errno;
                        break;
                }
                if (n == 0)
                        break;
                out.append(buf, static_cast<size_t>(n));
        }
        ::close(fd);
        return err;
}

std::string errno_message(int err) {
        return std::generic_category().message(err);
}

}  // namespace

std::string ConfigError::str() const {
        if (line == 0)
                return cat(file, ": ", message);
        return cat(file, ":", std::to_string(line), ": ", message);
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

        ConfigSource main_source{where.main_file.string(), {}};
        if (const int err = read_file(where.main_file, main_source.text); err == 0)
                sources.push_back(std::move(main_source));
        else if (err != ENOENT || where.main_file_required)
                io_errors.push_back(ConfigError{main_source.name, 0, errno_message(err)});

        const auto dir = where.dropin_dir();
        std::error_code ec;
        std::filesystem::directory_iterator it{dir, ec};
        std::vector<std::string> names;
        if (ec) {
                if (ec != std::errc::no_such_file_or_directory)
                        io_errors.push_back(ConfigError{dir.string(), 0, ec.message()});
        } else {
                for (; it != std::filesystem::directory_iterator{}; it.increment(ec)) {
                        if (ec)
                                break;
                        std::string name = it->path().filename().string();
                        // Like a shell glob, *.conf does not match hidden files.
                        if (name.starts_with('.') || !name.ends_with(".conf"))
                                continue;
                        std::error_code status_ec;
                        const auto type = it->status(status_ec).type();
                        // Directories and the like are not drop-ins; a dangling
                        // symlink is kept so that reading it reports why.
                        if (type != std::filesystem::file_type::regular &&
                            type != std::filesystem::file_type::not_found)
                                continue;
                        names.push_back(std::move(name));
                }
                if (ec)
                        io_errors.push_back(ConfigError{dir.string(), 0, ec.message()});
        }
        std::sort(names.begin(), names.end());
        for (const auto& name : names) {
                ConfigSource source{(dir / name).string(), {}};
                if (const int err = read_file(dir / name, source.text); err != 0)
                        io_errors.push_back(ConfigError{source.name, 0, errno_message(err)});
                else
                        sources.push_back(std::move(source));
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
