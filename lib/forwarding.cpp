#include "forwarding.hpp"

#include <cerrno>
#include <fstream>

#include "error.hpp"

namespace natd {

namespace {

// Not under --root: this is the kernel's state, not a file natd owns.
constexpr const char* kIpForwardPath = "/proc/sys/net/ipv4/ip_forward";

// Kernel interface names never hold '/', so the name is one path component.
std::string interface_path(const std::string& ifname, const char* flag = "forwarding") {
        return "/proc/sys/net/ipv4/conf/" + ifname + "/" + flag;
}

Status write_flag(const std::string& path, bool enabled) {
        std::ofstream f(path);
        if (!f)
                return errno_error("open " + path, errno);
        f << (enabled ? "1\n" : "0\n");
        f.flush();
        if (!f)
                return errno_error("write " + path, errno);
        return Ok{};
}

Result<bool> read_flag(const std::string& path) {
        std::ifstream f(path);
        std::string value;
        if (!(f >> value))
                return errno_error("read " + path, errno);
        return value != "0";
}

}  // namespace

Status set_ipv4_forwarding(bool enabled) {
        return write_flag(kIpForwardPath, enabled);
}

Result<bool> read_ipv4_forwarding() {
        return read_flag(kIpForwardPath);
}

Status set_interface_forwarding(const std::string& ifname, bool enabled) {
        return write_flag(interface_path(ifname), enabled);
}

Result<bool> read_interface_forwarding(const std::string& ifname) {
        return read_flag(interface_path(ifname));
}

std::string interface_forwarding_key(const std::string& ifname) {
        return "net.ipv4.conf." + ifname + ".forwarding";
}

Status set_send_redirects(const std::string& conf, bool enabled) {
        return write_flag(interface_path(conf, "send_redirects"), enabled);
}

Result<bool> read_send_redirects(const std::string& conf) {
        return read_flag(interface_path(conf, "send_redirects"));
}

std::string send_redirects_key(const std::string& conf) {
        return "net.ipv4.conf." + conf + ".send_redirects";
}

}  // namespace natd
