#include "persisted-files.hpp"

#include <sstream>

namespace natd {

namespace {
constexpr const char* kHeader =
        "# Written by natd; it rewrites this file. Configure natd instead:\n"
        "# /etc/natd/natd.conf\n";
}  // namespace

PersistedFile sysctl_file(const ConntrackPlan& conntrack, bool no_redirects) {
        std::string text = std::string(kHeader) + "net.ipv4.ip_forward = 1\n";
        if (no_redirects)
                text += "net.ipv4.conf.all.send_redirects = 0\n"
                        "net.ipv4.conf.default.send_redirects = 0\n";
        std::istringstream lines(render_conntrack_sysctls(conntrack));
        for (std::string line; std::getline(lines, line);)
                text += "-" + line + "\n";
        return {kSysctlFile, std::move(text)};
}

std::optional<PersistedFile> modprobe_file(const ConntrackPlan& conntrack) {
        if (conntrack.module_hashsize == 0)
                return std::nullopt;
        return PersistedFile{
                kModprobeFile,
                std::string(kHeader) +
                        "# nf_conntrack's hash table, sized when the module loads\n"
                        "# ([Conntrack] HashSize=; net.netfilter.nf_conntrack_buckets\n"
                        "# can only resize it later).\n"
                        "options nf_conntrack hashsize=" +
                        std::to_string(conntrack.module_hashsize) + "\n"};
}

bool is_persisted_file_path(std::string_view path) {
        if (path == kSysctlFile || path == kModprobeFile)
                return true;
        const std::string dir = std::string(kNetworkdConfigDir) + "/";
        const std::string tail = std::string(".network.d/") + kDropinName;
        if (!path.starts_with(dir) || !path.ends_with(tail) ||
            path.size() <= dir.size() + tail.size())
                return false;
        const auto name = path.substr(dir.size(), path.size() - dir.size() - tail.size());
        return name != "." && name != ".." && name.find('/') == std::string_view::npos &&
               name.find('\0') == std::string_view::npos;
}

DropinLocation route_dropin_location(const std::string& ifname, int ifindex,
                                     const std::map<int, std::string>& network_files,
                                     bool file_pins_eni) {
        const std::filesystem::path dir = kNetworkdConfigDir;
        const std::filesystem::path fallback = dir / ("70-" + ifname + ".network.d") / kDropinName;
        auto own = network_files.find(ifindex);
        if (own == network_files.end() || own->second.empty())
                return {fallback, false, ""};
        bool shared = !file_pins_eni;
        for (const auto& [other, file] : network_files)
                shared = shared || (other != ifindex && file == own->second);
        if (shared)
                return {fallback, false, own->second};
        const auto base = std::filesystem::path(own->second).filename().string();
        return {dir / (base + ".d") / kDropinName, true, ""};
}

std::string render_route_dropin(const std::vector<RoutePlan>& routes) {
        std::string out = kHeader;
        // amazon-ec2-net-utils gives every ENI a main-table default route from
        // DHCP (metric 512 + device number). The private ENI's would take
        // internet-bound traffic back into the VPC, in a loop, once the public
        // one's goes. natd.conf sorts after net-utils' eni.conf, so this
        // scalar wins; its per-ENI table keeps its Gateway=_dhcp4 route.
        out += "\n[DHCPv4]\nUseGateway=no\n";
        for (const auto& r : routes) {
                out += "\n[Route]\nDestination=" + r.destination.str() +
                       "\nGateway=" + r.gateway.str() + "\n";
                // Explicit: networkd only assumes it without [Address] sections.
                out += r.onlink ? "GatewayOnLink=yes\n" : "GatewayOnLink=no\n";
        }
        return out;
}

}  // namespace natd
