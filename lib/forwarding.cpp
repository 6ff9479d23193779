#include "forwarding.hpp"

#include <cerrno>
#include <fstream>
#include <string>

#include "error.hpp"

namespace natd {

namespace {
// Not under --root: this is the kernel's state, not a file natd owns.
constexpr const char* kIpForwardPath = "/proc/sys/net/ipv4/ip_forward";
}  // namespace

Status set_ipv4_forwarding(bool enabled) {
        std::ofstream f(kIpForwardPath);
        if (!f)
                return errno_error(std::string("open ") + kIpForwardPath, errno);
        f << (enabled ? "1\n" : "0\n");
        f.flush();
        if (!f)
                return errno_error(std::string("write ") + kIpForwardPath, errno);
        return Ok{};
}

Result<bool> read_ipv4_forwarding() {
        std::ifstream f(kIpForwardPath);
        std::string value;
        if (!(f >> value))
                return errno_error(std::string("read ") + kIpForwardPath, errno);
        return value != "0";
}

}  // namespace natd
