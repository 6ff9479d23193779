#include "imds-discovery.hpp"

#include <map>
#include <memory>
#include <string>
#include <utility>

namespace natd {

namespace {

constexpr const char* kMacsPath = "meta-data/network/interfaces/macs/";

// One discovery: what is asked and not yet answered, and the answers.
struct Discovery {
        std::function<void(InstanceMetadata)> done;
        unsigned outstanding = 0;
        InstanceMetadata metadata;
        std::vector<MacAddress> macs;
        std::map<std::string, std::map<std::string, Result<std::string>>> items;  // by MAC

        void answered() {
                if (--outstanding > 0)
                        return;
                for (const auto& mac : macs)
                        metadata.enis.push_back(
                                eni_from_items(mac, items[mac.str()], metadata.primary_mac));
                done(std::move(metadata));
        }
};

void ask_item(ImdsClient& client, const std::shared_ptr<Discovery>& d, const MacAddress& mac,
              const std::string& item);

// The public addresses' associations, once public-ipv4s has listed them.
void ask_associations(ImdsClient& client, const std::shared_ptr<Discovery>& d,
                      const MacAddress& mac, const Result<std::string>& public_ipv4s) {
        if (!public_ipv4s.ok())
                return;
        for (const auto& ip : parse_imds_listing(public_ipv4s.value()))
                if (Ipv4Address::parse(ip).ok())
                        ask_item(client, d, mac, std::string(kAssociationsItem) + ip);
}

void ask_item(ImdsClient& client, const std::shared_ptr<Discovery>& d, const MacAddress& mac,
              const std::string& item) {
        ++d->outstanding;
        client.get(std::string(kMacsPath) + mac.str() + "/" + item,
                   [d, &client, mac, item](Result<std::string> answer) {
                           if (item == "public-ipv4s")
                                   ask_associations(client, d, mac, answer);
                           d->items[mac.str()].insert_or_assign(item, std::move(answer));
                           d->answered();
                   });
}

void ask_eni(ImdsClient& client, const std::shared_ptr<Discovery>& d, const MacAddress& mac) {
        for (const char* item : kEniItems)
                ask_item(client, d, mac, item);
}

}  // namespace

void discover_instance(ImdsClient& client, std::function<void(InstanceMetadata)> done) {
        auto d = std::make_shared<Discovery>();
        d->done = std::move(done);
        d->outstanding = 3;
        client.get("meta-data/instance-id", [d](Result<std::string> answer) {
                if (answer.ok())
                        d->metadata.instance_id = answer.value();
                else
                        d->metadata.problems.push_back(answer.error());
                d->answered();
        });
        client.get("meta-data/mac", [d](Result<std::string> answer) {
                if (!answer.ok()) {
                        d->metadata.problems.push_back(answer.error());
                } else if (auto mac = MacAddress::parse(answer.value()); mac.ok()) {
                        d->metadata.primary_mac = mac.value();
                } else {
                        d->metadata.problems.push_back("IMDS meta-data/mac: '" + answer.value() +
                                                       "' is not a MAC address");
                }
                d->answered();
        });
        // The ENIs' items go out once the listing is in; `outstanding`
        // counts them before the listing's own answer is taken off.
        client.get(kMacsPath, [d, &client](Result<std::string> answer) {
                if (!answer.ok()) {
                        d->metadata.problems.push_back(answer.error());
                } else {
                        for (const auto& entry : parse_imds_listing(answer.value())) {
                                auto mac = MacAddress::parse(entry);
                                if (!mac.ok()) {
                                        d->metadata.problems.push_back(std::string("IMDS ") +
                                                                       kMacsPath + ": '" + entry +
                                                                       "' is not a MAC address");
                                        continue;
                                }
                                d->macs.push_back(mac.value());
                                ask_eni(client, d, mac.value());
                        }
                }
                d->answered();
        });
}

}  // namespace natd
