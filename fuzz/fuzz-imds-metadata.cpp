// The instance metadata service's answers (lib/imds-metadata.hpp). The input
// is a sequence of answer bodies cut at kItemSeparator: first the MAC
// listing (meta-data/network/interfaces/macs/), then one body per item of
// kEniItems in its order, then ipv4-associations/ answers, each "PUBLIC-IP"
// on its first line and the body after it. A body of exactly "!" is a 404
// (the item does not exist), as imds-discovery hands it in.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "fuzz-input.hpp"
#include "imds-metadata.hpp"

namespace {

constexpr std::string_view kItemSeparator = "\n--8<--\n";

natd::Result<std::string> answer(std::string_view body) {
        if (body == "!")
                return natd::Error{"Not Found", ENOENT};
        return std::string(body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
        const auto pieces = natd::fuzz::split(natd::fuzz::as_text(data, size), kItemSeparator);
        const auto macs = natd::parse_imds_listing(pieces[0]);
        // The ENI is the listing's first MAC when it is one; imds-discovery
        // asks only for MACs the listing gave.
        auto mac = natd::MacAddress::parse("0a:00:00:00:00:01").value();
        if (!macs.empty())
                if (auto parsed = natd::MacAddress::parse(macs.front()); parsed.ok())
                        mac = parsed.value();

        std::map<std::string, natd::Result<std::string>> items;
        for (size_t i = 1; i < pieces.size(); ++i) {
                if (i <= natd::kEniItems.size()) {
                        items.insert_or_assign(natd::kEniItems[i - 1], answer(pieces[i]));
                        continue;
                }
                const size_t newline = pieces[i].find('\n');
                const std::string_view address = pieces[i].substr(0, newline);
                const std::string_view body = newline == std::string_view::npos
                                                      ? std::string_view{}
                                                      : pieces[i].substr(newline + 1);
                items.insert_or_assign(std::string(natd::kAssociationsItem) + std::string(address),
                                       answer(body));
        }

        natd::InstanceMetadata metadata;
        metadata.primary_mac = mac;
        metadata.enis.push_back(natd::eni_from_items(mac, items, metadata.primary_mac));
        // What the planner then asks of it (plan.cpp).
        (void)natd::eni_by_device_number(metadata, 0);
        (void)natd::eni_by_device_number(metadata, 1);
        if (const auto* eni = natd::eni_by_mac(metadata, mac))
                for (const auto& local : eni->local_ipv4s)
                        (void)natd::public_ip_of(*eni, local);
        return 0;
}
