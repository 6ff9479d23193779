// What the instance metadata service says about this instance and its
// ENIs, as plain data, and the pure functions that read it from the
// service's answers. imds-discovery.hpp asks; this file only understands.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipv4.hpp"
#include "mac-address.hpp"
#include "result.hpp"

namespace natd {

// A public IPv4 address (an Elastic IP or the auto-assigned one) and the
// ENI's private address it maps to.
struct Ipv4Association {
        Ipv4Address public_ip;
        Ipv4Address private_ip;

        bool operator==(const Ipv4Association&) const = default;
};

inline constexpr std::string_view kAssociationsItem = "ipv4-associations/";

struct EniMetadata {
        MacAddress mac;
        // None: not known. IMDS reads 0 for a moment after a hot attach, so
        // a 0 counts only for the instance's primary MAC (when known).
        std::optional<unsigned> device_number;
        std::optional<unsigned> network_card;  // none: 0 (single-card types list none)
        std::string interface_id;              // eni-...
        std::optional<Ipv4Cidr> subnet;        // subnet-ipv4-cidr-block
        std::vector<Ipv4Cidr> vpc_cidrs;       // vpc-ipv4-cidr-blocks
        std::vector<Ipv4Address> local_ipv4s;
        std::vector<Ipv4Address> public_ipv4s;  // empty: none associated
        // ipv4-associations/PUBLIC of each public_ipv4s entry.
        std::vector<Ipv4Association> associations;
        // What could not be read or made sense of, one sentence each.
        std::vector<std::string> problems;

        bool operator==(const EniMetadata&) const = default;
};

struct InstanceMetadata {
        std::string instance_id;
        std::optional<MacAddress> primary_mac;  // meta-data/mac: the primary ENI's
        std::vector<EniMetadata> enis;          // in the service's order
        std::vector<std::string> problems;

        bool operator==(const InstanceMetadata&) const = default;
};

// The items natd reads under meta-data/network/interfaces/macs/MAC/.
inline constexpr std::array<const char*, 7> kEniItems{
        "device-number",        "network-card", "interface-id", "subnet-ipv4-cidr-block",
        "vpc-ipv4-cidr-blocks", "local-ipv4s",  "public-ipv4s"};

// A listing ("0a:..:01/\n0a:..:02/"): one entry per line, the trailing '/'
// of a directory dropped, blank lines skipped.
std::vector<std::string> parse_imds_listing(std::string_view body);

// One ENI from the answers to kEniItems and, for each public address,
// kAssociationsItem + address (a missing item is an error answer). An item the service does not
// have (ENOENT: 404) is absent, not a problem: network-card on single-card types, public-ipv4s
// without a public address.
EniMetadata eni_from_items(const MacAddress& mac,
                           const std::map<std::string, Result<std::string>>& items,
                           const std::optional<MacAddress>& primary_mac);

// The ENI whose device-number is `device_number` on `network_card`; null
// when none or several claim it.
const EniMetadata* eni_by_device_number(const InstanceMetadata& metadata, unsigned device_number,
                                        unsigned network_card = 0);
// The ENI with `mac`; null when the service does not list it.
const EniMetadata* eni_by_mac(const InstanceMetadata& metadata, const MacAddress& mac);
// The public address AWS maps `private_ip` of `eni` to; none without one.
std::optional<Ipv4Address> public_ip_of(const EniMetadata& eni, const Ipv4Address& private_ip);

// Where natd's look at the metadata service stands (imds-watch.hpp asks).
enum class ImdsState {
        Disabled,     // [Discovery] IMDS=no
        Pending,      // asked, no answer yet (the first time)
        Available,    // answered: `metadata` holds what it said
        Unavailable,  // did not answer: `error` says why; natd asks again later
};
const char* imds_state_name(ImdsState state);  // "disabled", "pending", "ok", "unavailable"

// What the planner knows from the metadata service: plain data.
struct ImdsFacts {
        ImdsState state = ImdsState::Disabled;
        // Unavailable: why. Available: why the latest refresh failed (natd
        // then keeps what the service said before), or empty.
        std::string error;
        InstanceMetadata metadata;  // Available only

        [[nodiscard]] bool available() const { return state == ImdsState::Available; }
        bool operator==(const ImdsFacts&) const = default;
};

}  // namespace natd
