#include "networkd-state.hpp"

#include <charconv>
#include <system_error>

#include "atomic-file.hpp"

namespace natd {

std::optional<NetworkdLink> parse_networkd_link(std::string_view text) {
        NetworkdLink link;
        while (!text.empty()) {
                const size_t end = text.find('\n');
                const std::string_view line = text.substr(0, end);
                for (auto [key, field] :
                     {std::pair{std::string_view("NETWORK_FILE="), &link.network_file},
                      std::pair{std::string_view("ADMIN_STATE="), &link.admin_state}})
                        if (line.starts_with(key))
                                *field = line.substr(key.size());
                if (end == std::string_view::npos)
                        break;
                text.remove_prefix(end + 1);
        }
        if (link.network_file.empty())
                return std::nullopt;
        return link;
}

std::map<int, NetworkdLink> read_networkd_links(const std::filesystem::path& root) {
        std::map<int, NetworkdLink> links;
        std::error_code ec;
        const auto dir = root / std::filesystem::path(kNetworkdLinksDir).relative_path();
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
                const std::string name = entry.path().filename().string();
                int ifindex = 0;
                const auto [ptr, err] =
                        std::from_chars(name.data(), name.data() + name.size(), ifindex);
                if (err != std::errc{} || ptr != name.data() + name.size())
                        continue;
                auto text = read_file(entry.path());
                if (!text.ok())
                        continue;  // networkd replaced it meanwhile; inotify tells us again
                if (auto link = parse_networkd_link(text.value()))
                        links[ifindex] = *link;
        }
        return links;
}

std::map<int, std::string> network_files(const std::map<int, NetworkdLink>& links) {
        std::map<int, std::string> files;
        for (const auto& [ifindex, link] : links)
                files[ifindex] = link.network_file;
        return files;
}

}  // namespace natd
