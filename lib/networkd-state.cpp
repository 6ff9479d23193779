#include "networkd-state.hpp"

#include <cerrno>
#include <charconv>
#include <set>
#include <system_error>

#include <spdlog/spdlog.h>

#include "read-file.hpp"

namespace natd {

namespace {

// Logs the problems not logged at the previous read: natd reads the state at
// every reconcile, and a FIFO left there would otherwise fill the journal.
// Process-wide, as the journal is.
void log_changed_problems(const std::vector<Error>& problems) {
        static std::set<std::string> logged;
        std::set<std::string> now;
        for (const auto& p : problems) {
                if (!logged.contains(p.message))
                        spdlog::error("Cannot use networkd's link state: {}", p.message);
                now.insert(p.message);
        }
        logged = std::move(now);
}

}  // namespace

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

std::map<int, NetworkdLink> read_networkd_links(const std::filesystem::path& root,
                                                std::vector<Error>* problems) {
        std::map<int, NetworkdLink> links;
        std::vector<Error> found;
        const auto dir = root / std::filesystem::path(kNetworkdLinksDir).relative_path();
        std::error_code ec;
        std::filesystem::directory_iterator it{dir, ec};
        // No directory: networkd does not run, nothing to read.
        if (ec == std::errc::no_such_file_or_directory)
                ec.clear();
        for (; !ec && it != std::filesystem::directory_iterator{}; it.increment(ec)) {
                const std::string name = it->path().filename().string();
                int ifindex = 0;
                const auto [ptr, err] =
                        std::from_chars(name.data(), name.data() + name.size(), ifindex);
                if (err != std::errc{} || ptr != name.data() + name.size())
                        continue;
                // networkd writes its state files itself, by rename: a
                // symlink there is not networkd's.
                auto text = read_file(it->path(), kNetworkdStateMaxSize, Symlinks::Refuse);
                if (!text.ok()) {
                        if (!text.failure().is(ENOENT))
                                found.push_back(text.failure());
                        continue;
                }
                if (auto link = parse_networkd_link(text.value())) {
                        auto match = read_network_match(root, link->network_file);
                        // A file gone since networkd read it (net-utils removes a
                        // detached ENI's) is no problem: natd just cannot
                        // extend it.
                        if (match.ok())
                                link->match = std::move(match).value();
                        else if (!match.failure().is(ENOENT))
                                found.push_back(match.failure());
                        links[ifindex] = *link;
                }
        }
        if (ec)
                found.push_back(errno_error("list", dir.string(), ec.value()));
        log_changed_problems(found);
        if (problems != nullptr)
                problems->insert(problems->end(), found.begin(), found.end());
        return links;
}

std::map<int, std::string> network_files(const std::map<int, NetworkdLink>& links) {
        std::map<int, std::string> files;
        for (const auto& [ifindex, link] : links)
                files[ifindex] = link.network_file;
        return files;
}

}  // namespace natd
