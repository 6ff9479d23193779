#include "conntrack-settings.hpp"

#include <cerrno>
#include <charconv>
#include <fstream>
#include <unistd.h>

#include "error.hpp"

namespace natd {

namespace {

// "net.netfilter.nf_conntrack_max" -> /proc/sys/net/netfilter/nf_conntrack_max.
std::string proc_path(const std::string& key) {
        std::string path = "/proc/sys/" + key;
        for (size_t i = sizeof("/proc/sys/") - 1; i < path.size(); ++i)
                if (path[i] == '.')
                        path[i] = '/';
        return path;
}

Result<uint32_t> read_value(const std::string& key) {
        std::ifstream f(proc_path(key));
        std::string text;
        if (!(f >> text))
                return errno_error("read", key, errno != 0 ? errno : ENOENT);
        uint32_t value = 0;
        const auto [ptr, err] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (err != std::errc{} || ptr != text.data() + text.size())
                return Error{"Could not read " + key + ": '" + text + "' is no number", EINVAL};
        return value;
}

bool writable(const std::string& key) {
        return access(proc_path(key).c_str(), W_OK) == 0;
}

}  // namespace

Status apply_conntrack(const ConntrackPlan& plan) {
        for (const auto& s : conntrack_settings(plan)) {
                auto now = read_value(s.key);
                if (now.ok() && now.value() == s.value)
                        continue;
                if (s.global && !writable(s.key))
                        continue;  // check_conntrack says so
                std::ofstream f(proc_path(s.key));
                if (!f)
                        return errno_error("open", s.key, errno);
                f << s.value << "\n";
                f.flush();
                if (!f)
                        return errno_error("set " + s.key + " to", std::to_string(s.value), errno);
        }
        return Ok{};
}

ConntrackCheck check_conntrack(const ConntrackPlan& plan) {
        ConntrackCheck out;
        for (const auto& s : conntrack_settings(plan)) {
                auto now = read_value(s.key);
                if (!now.ok()) {
                        // nf_conntrack not loaded yet: natd's table loads it.
                        out.drift.push_back(now.error());
                        continue;
                }
                if (now.value() == s.value)
                        continue;
                const std::string is = s.key + " is " + std::to_string(now.value());
                if (s.global && !writable(s.key)) {
                        if (s.configured)
                                out.notes.push_back(
                                        is + ", not " + std::to_string(s.value) +
                                        " as configured: it is global to the kernel and "
                                        "read-only in this network namespace");
                        continue;
                }
                out.drift.push_back(is + ", natd sets " + std::to_string(s.value));
        }
        return out;
}

}  // namespace natd
