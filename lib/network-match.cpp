#include "network-match.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>
#include <system_error>

#include "read-file.hpp"

namespace natd {

namespace {

// systemd's NETWORK_DIRS, highest priority first.
constexpr const char* kNetworkDirs[] = {"/etc/systemd/network", "/run/systemd/network",
                                        "/usr/local/lib/systemd/network",
                                        "/usr/lib/systemd/network"};
constexpr std::size_t kNetworkFileMaxSize = std::size_t{1024} * 1024;

std::string trim(std::string s) {
        const auto not_space = [](unsigned char c) { return std::isspace(c) == 0; };
        s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
        s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
        return s;
}

void assign(std::vector<std::string>& list, const std::string& value) {
        if (value.empty()) {
                list.clear();
                return;
        }
        std::istringstream words(value);
        for (std::string w; words >> w;)
                list.push_back(w);
}

bool same_mac(const std::string& text, const Link& link) {
        auto mac = MacAddress::parse(text);
        return mac.ok() && link.mac && mac.value() == *link.mac;
}

bool plain_name_of(const std::string& pattern, const Link& link) {
        if (pattern.find_first_of("*?[!") != std::string::npos)
                return false;
        return pattern == link.name || std::find(link.altnames.begin(), link.altnames.end(),
                                                 pattern) != link.altnames.end();
}

}  // namespace

NetworkMatch parse_network_match(const std::vector<std::string>& texts) {
        NetworkMatch m;
        for (const auto& text : texts) {
                std::istringstream lines(text);
                bool in_match = false;
                for (std::string line; std::getline(lines, line);) {
                        line = trim(line);
                        if (line.empty() || line[0] == '#' || line[0] == ';')
                                continue;
                        if (line.front() == '[') {
                                in_match = line == "[Match]";
                                continue;
                        }
                        const auto eq = line.find('=');
                        if (!in_match || eq == std::string::npos)
                                continue;
                        const std::string key = trim(line.substr(0, eq));
                        const std::string value = trim(line.substr(eq + 1));
                        if (key == "MACAddress")
                                assign(m.mac_addresses, value);
                        else if (key == "PermanentMACAddress")
                                assign(m.permanent_mac_addresses, value);
                        else if (key == "Name")
                                assign(m.names, value);
                }
        }
        return m;
}

bool pins_link(const NetworkMatch& match, const Link& link) {
        auto all = [&](const std::vector<std::string>& list, auto&& of_link) {
                return !list.empty() && std::all_of(list.begin(), list.end(), [&](const auto& v) {
                        return of_link(v, link);
                });
        };
        // The permanent MAC is the one natd sees unless someone changed it.
        return all(match.mac_addresses, same_mac) || all(match.permanent_mac_addresses, same_mac) ||
               all(match.names, plain_name_of);
}

Result<NetworkMatch> read_network_match(const std::filesystem::path& root,
                                        const std::filesystem::path& network_file) {
        std::vector<std::string> texts;
        auto main = read_file(root / network_file.relative_path(), kNetworkFileMaxSize);
        if (!main.ok())
                return main.failure();
        texts.push_back(std::move(main).value());

        // networkd names the drop-in directory after the file it found (a
        // symlink's own name, not its target's).
        const std::string dropin_dir = network_file.filename().string() + ".d";
        std::map<std::string, std::filesystem::path> dropins;  // by name: sorted, masked
        for (const char* dir : kNetworkDirs) {
                std::error_code ec;
                const auto at = root / std::filesystem::path(dir).relative_path() / dropin_dir;
                for (std::filesystem::directory_iterator it{at, ec}, end; !ec && it != end;
                     it.increment(ec))
                        if (it->path().extension() == ".conf")
                                dropins.try_emplace(it->path().filename().string(), it->path());
        }
        for (const auto& [name, path] : dropins) {
                auto text = read_file(path, kNetworkFileMaxSize);
                if (!text.ok())
                        return text.failure();
                texts.push_back(std::move(text).value());
        }
        return parse_network_match(texts);
}

}  // namespace natd
