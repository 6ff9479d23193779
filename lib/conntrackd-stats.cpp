#include "conntrackd-stats.hpp"

#include <charconv>
#include <string>
#include <vector>

namespace natd {

namespace {

// The number after `label` (and whitespace) from `from` on; npos: none.
bool number_after(std::string_view text, std::string_view label, std::size_t from,
                  uint64_t& value) {
        const std::size_t at = text.find(label, from);
        if (at == std::string_view::npos)
                return false;
        std::size_t i = at + label.size();
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
                ++i;
        const auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), value);
        return ec == std::errc{} && end != text.data() + i;
}

// The number before `label` ("8 Bytes sent"), searching from `from`.
bool number_before(std::string_view text, std::string_view label, std::size_t from,
                   uint64_t& value) {
        const std::size_t at = text.find(label, from);
        if (at == std::string_view::npos)
                return false;
        std::size_t end = at;
        while (end > 0 && text[end - 1] == ' ')
                --end;
        std::size_t start = end;
        while (start > 0 && text[start - 1] >= '0' && text[start - 1] <= '9')
                --start;
        if (start == end)
                return false;
        return std::from_chars(text.data() + start, text.data() + end, value).ec == std::errc{};
}

}  // namespace

Result<ConntrackdStats> parse_conntrackd_stats(std::string_view text) {
        ConntrackdStats s;
        std::vector<std::string> missing;
        const std::size_t internal = text.find("cache internal:");
        const std::size_t external = text.find("cache external:");
        const std::size_t udp = text.find("UDP traffic");
        const std::size_t tracking = text.find("message tracking:");
        auto need = [&](bool found, const char* what) {
                if (!found)
                        missing.emplace_back(what);
        };
        constexpr std::string_view kActive = "current active connections:";
        need(internal != std::string_view::npos &&
                     number_after(text, kActive, internal, s.internal_entries),
             "the internal cache's connections");
        need(external != std::string_view::npos &&
                     number_after(text, kActive, external, s.external_entries),
             "the external cache's connections");
        need(udp != std::string_view::npos &&
                     number_before(text, "Pckts sent", udp, s.packets_sent) &&
                     number_before(text, "Pckts recv", udp, s.packets_received) &&
                     number_before(text, "Error send", udp, s.send_errors) &&
                     number_before(text, "Error recv", udp, s.receive_errors),
             "the UDP traffic");
        need(tracking != std::string_view::npos &&
                     number_before(text, "Malformed msgs", tracking, s.malformed_messages) &&
                     number_before(text, "Lost msgs", tracking, s.lost_messages),
             "the message tracking");
        if (!missing.empty()) {
                std::string why = "conntrackd -s: no counters for ";
                for (std::size_t i = 0; i < missing.size(); ++i)
                        why += (i == 0 ? "" : ", ") + missing[i];
                return Error{why};
        }
        return s;
}

}  // namespace natd
