#include "imds-metadata.hpp"

#include <cerrno>
#include <charconv>

namespace natd {

namespace {

std::optional<unsigned> parse_number(std::string_view text) {
        unsigned n = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
                return std::nullopt;
        return n;
}

std::string_view trimmed(std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r'))
                s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r'))
                s.remove_suffix(1);
        return s;
}

}  // namespace

std::vector<std::string> parse_imds_listing(std::string_view body) {
        std::vector<std::string> out;
        while (!body.empty()) {
                const auto nl = body.find('\n');
                std::string_view line = trimmed(body.substr(0, nl));
                body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
                if (line.ends_with('/'))
                        line.remove_suffix(1);
                if (!line.empty())
                        out.emplace_back(line);
        }
        return out;
}

EniMetadata eni_from_items(const MacAddress& mac,
                           const std::map<std::string, Result<std::string>>& items,
                           const std::optional<MacAddress>& primary_mac) {
        EniMetadata eni;
        eni.mac = mac;
        const std::string where = "IMDS, ENI " + mac.str() + ": ";
        // The item's text, or none when the service has no such item;
        // anything else unreadable is a problem.
        auto text = [&](const char* item) -> std::optional<std::string> {
                const auto it = items.find(item);
                if (it == items.end()) {
                        eni.problems.push_back(where + item + " was not asked for");
                        return std::nullopt;
                }
                if (!it->second.ok()) {
                        if (!it->second.failure().is(ENOENT))
                                eni.problems.push_back(where + it->second.error());
                        return std::nullopt;
                }
                return std::string(trimmed(it->second.value()));
        };
        auto number = [&](const char* item) -> std::optional<unsigned> {
                auto t = text(item);
                if (!t)
                        return std::nullopt;
                auto n = parse_number(*t);
                if (!n)
                        eni.problems.push_back(where + item + " is '" + *t + "', not a number");
                return n;
        };
        eni.device_number = number("device-number");
        if (eni.device_number == 0u && !(primary_mac && *primary_mac == mac)) {
                // EC2 fills it in moments after a hot attach.
                eni.device_number.reset();
                eni.problems.push_back(where + "device-number reads 0 for an ENI not known to "
                                               "be the primary one: not known yet");
        }
        eni.network_card = number("network-card");
        if (auto id = text("interface-id"))
                eni.interface_id = *id;
        if (auto s = text("subnet-ipv4-cidr-block")) {
                if (auto cidr = Ipv4Cidr::parse(*s); cidr.ok() && cidr.value().is_network())
                        eni.subnet = cidr.value();
                else
                        eni.problems.push_back(where + "subnet-ipv4-cidr-block '" + *s +
                                               "' is not a network");
        }
        auto each = [&](const char* item, auto&& take) {
                if (auto t = text(item))
                        for (const auto& line : parse_imds_listing(*t))
                                if (!take(line)) {
                                        std::string problem = where;
                                        problem.append(item).append(": '").append(line);
                                        problem += std::string_view(item).ends_with("blocks")
                                                           ? "' is not an IPv4 network"
                                                           : "' is not an IPv4 address";
                                        eni.problems.push_back(std::move(problem));
                                }
        };
        each("vpc-ipv4-cidr-blocks", [&](const std::string& line) {
                auto c = Ipv4Cidr::parse(line);
                if (!c.ok() || !c.value().is_network())
                        return false;
                eni.vpc_cidrs.push_back(c.value());
                return true;
        });
        for (auto* list : {"local-ipv4s", "public-ipv4s"}) {
                auto& into = std::string_view(list) == "local-ipv4s" ? eni.local_ipv4s
                                                                     : eni.public_ipv4s;
                each(list, [&](const std::string& line) {
                        auto a = Ipv4Address::parse(line);
                        if (!a.ok())
                                return false;
                        into.push_back(a.value());
                        return true;
                });
        }
        for (const auto& public_ip : eni.public_ipv4s) {
                const std::string item = std::string(kAssociationsItem) + public_ip.str();
                auto t = text(item.c_str());
                if (!t)
                        continue;
                // One private address; AWS lists one per line, should it be several.
                const auto lines = parse_imds_listing(*t);
                auto a = lines.empty() ? Result<Ipv4Address>(Error{"empty"})
                                       : Ipv4Address::parse(lines.front());
                if (a.ok())
                        eni.associations.push_back({public_ip, a.value()});
                else
                        eni.problems.push_back(where + item + ": '" + *t +
                                               "' is not an IPv4 address");
        }
        return eni;
}

std::optional<Ipv4Address> public_ip_of(const EniMetadata& eni, const Ipv4Address& private_ip) {
        for (const auto& a : eni.associations)
                if (a.private_ip == private_ip)
                        return a.public_ip;
        return std::nullopt;
}

const EniMetadata* eni_by_device_number(const InstanceMetadata& metadata, unsigned device_number,
                                        unsigned network_card) {
        const EniMetadata* found = nullptr;
        for (const auto& eni : metadata.enis) {
                if (eni.device_number != device_number ||
                    eni.network_card.value_or(0) != network_card)
                        continue;
                if (found != nullptr)
                        return nullptr;  // two claim it: trust neither
                found = &eni;
        }
        return found;
}

const EniMetadata* eni_by_mac(const InstanceMetadata& metadata, const MacAddress& mac) {
        for (const auto& eni : metadata.enis)
                if (eni.mac == mac)
                        return &eni;
        return nullptr;
}

const char* imds_state_name(ImdsState state) {
        switch (state) {
        case ImdsState::Disabled:
                return "disabled";
        case ImdsState::Pending:
                return "pending";
        case ImdsState::Available:
                return "ok";
        case ImdsState::Unavailable:
                return "unavailable";
        }
        return "unknown";
}

}  // namespace natd
