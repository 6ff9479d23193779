// Selectors name an ENI the way an operator knows it: kernel name, altname
// (device-number-N, device-number-N.C, eni-...), or MAC address.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "link.hpp"
#include "mac-address.hpp"
#include "result.hpp"

namespace natd {

class Selector {
public:
        enum class Match {
                None,
                // device-number-N matched the altname device-number-N.C
                // (amazon-ec2-net-utils >= 2.5 appends the network card index).
                NetworkCard,
                // The kernel name, an altname or the MAC equals the selector.
                Exact,
        };

        // A text containing ':' must be a MAC address (interface names cannot
        // contain ':'); anything else must be a valid interface name or
        // altname: 1..127 characters, no whitespace, no '/', not "." or "..".
        static Result<Selector> parse(std::string_view text);

        [[nodiscard]] Match match(const Link& link) const;
        [[nodiscard]] bool is_mac() const { return std::holds_alternative<MacAddress>(v_); }
        [[nodiscard]] std::string str() const;  // as the operator wrote it (MAC normalized)

        // device-number-N or device-number-N.C: the ENI's device index and,
        // when given, its network card, which the instance metadata service
        // can resolve to a MAC where no altname says it (imds-metadata.hpp).
        struct DeviceNumber {
                unsigned device = 0;
                std::optional<unsigned> network_card;
        };
        [[nodiscard]] std::optional<DeviceNumber> device_number() const;

        bool operator==(const Selector&) const = default;

private:
        explicit Selector(std::variant<std::string, MacAddress> v) : v_(std::move(v)) {}
        std::variant<std::string, MacAddress> v_;
};

// The outcome of resolving a selector against every link the kernel has.
struct Resolution {
        // Exactly one best match: Exact beats NetworkCard. nullptr otherwise.
        const Link* link = nullptr;
        // Set when several links tie for the best match (e.g. device-number-1
        // against device-number-1.0 and device-number-1.1): never guess.
        std::vector<const Link*> ambiguous;
};

Resolution resolve(const Selector& selector, const std::vector<Link>& links);

}  // namespace natd
