#include "selector.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace natd {

namespace {

constexpr std::string_view device_number_prefix = "device-number-";

bool all_digits(std::string_view s) {
        return !s.empty() &&
               std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// amazon-ec2-net-utils names ENIs device-number-N, and from 2.5 on
// device-number-N.C (C: network card index). An operator who wrote
// device-number-N means "ENI N on whichever card": only a dot followed by
// digits may follow, so device-number-1 never matches device-number-10.0.
bool network_card_match(std::string_view selector, std::string_view altname) {
        if (!selector.starts_with(device_number_prefix) ||
            !all_digits(selector.substr(device_number_prefix.size())))
                return false;
        return altname.size() > selector.size() + 1 && altname.starts_with(selector) &&
               altname[selector.size()] == '.' && all_digits(altname.substr(selector.size() + 1));
}

// A run of digits (all_digits) as a number; none when it overflows.
std::optional<unsigned> digits_value(std::string_view s) {
        unsigned v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || end != s.data() + s.size())
                return std::nullopt;
        return v;
}

}  // namespace

std::optional<Selector::DeviceNumber> Selector::device_number() const {
        const auto* text = std::get_if<std::string>(&v_);
        if (text == nullptr || !text->starts_with(device_number_prefix))
                return std::nullopt;
        std::string_view rest = std::string_view(*text).substr(device_number_prefix.size());
        std::string_view card;
        if (const auto dot = rest.find('.'); dot != std::string_view::npos) {
                card = rest.substr(dot + 1);
                rest = rest.substr(0, dot);
                if (!all_digits(card))
                        return std::nullopt;
        }
        if (!all_digits(rest))
                return std::nullopt;
        DeviceNumber n;
        const auto device = digits_value(rest);
        if (!device)
                return std::nullopt;
        n.device = *device;
        if (!card.empty()) {
                n.network_card = digits_value(card);
                if (!n.network_card)
                        return std::nullopt;
        }
        return n;
}

Result<Selector> Selector::parse(std::string_view text) {
        if (text.empty())
                return Error{"empty selector: expected an interface name, altname or MAC address"};
        // Interface names cannot contain ':', so a ':' means the operator meant a MAC.
        if (text.find(':') != std::string_view::npos) {
                auto mac = MacAddress::parse(text);
                if (!mac)
                        return mac.failure();
                return Selector{mac.value()};
        }
        const auto fail = [text](const char* reason) -> Result<Selector> {
                return Error{"invalid selector '" + std::string(text) + "': " + reason};
        };
        // The kernel's rules for altnames (IFLA_ALT_IFNAME), which also cover
        // the 15-character kernel names.
        if (text.size() > 127)
                return fail("interface names and altnames are at most 127 characters");
        if (text == "." || text == "..")
                return fail("'.' and '..' are not interface names");
        for (const char c : text) {
                if (c == ' ' || (c >= '\t' && c <= '\r'))
                        return fail("interface names cannot contain whitespace");
                if (c == '/')
                        return fail("interface names cannot contain '/'");
                // The kernel would take them, but natd.conf does not unquote
                // (as systemd does not for names): Public="ens5" would wait
                // for a link named "ens5" with its quotes, forever.
                if (c == '"' || c == '\'')
                        return fail("quotes are not part of an interface name; write it without "
                                    "them");
                if (c < '!' || c > '~')
                        return fail("interface names must be printable ASCII");
        }
        return Selector{std::string(text)};
}

Selector::Match Selector::match(const Link& link) const {
        if (const auto* mac = std::get_if<MacAddress>(&v_))
                return link.mac && *link.mac == *mac ? Match::Exact : Match::None;
        const auto& name = std::get<std::string>(v_);
        if (link.name == name ||
            std::find(link.altnames.begin(), link.altnames.end(), name) != link.altnames.end())
                return Match::Exact;
        for (const auto& altname : link.altnames)
                if (network_card_match(name, altname))
                        return Match::NetworkCard;
        return Match::None;
}

std::string Selector::str() const {
        if (const auto* mac = std::get_if<MacAddress>(&v_))
                return mac->str();
        return std::get<std::string>(v_);
}

Resolution resolve(const Selector& selector, const std::vector<Link>& links) {
        Selector::Match best = Selector::Match::None;
        std::vector<const Link*> matches;
        for (const auto& link : links) {
                const auto m = selector.match(link);
                if (m == Selector::Match::None || m < best)
                        continue;
                if (m > best) {
                        best = m;
                        matches.clear();
                }
                matches.push_back(&link);
        }
        Resolution r;
        if (matches.size() == 1)
                r.link = matches.front();
        else
                r.ambiguous = std::move(matches);
        return r;
}

}  // namespace natd
