#include "config-schema.hpp"

namespace natd {

std::string ConfigKey::str() const {
        std::string s = "[";
        s += section;
        s += "] ";
        s += name;
        s += "=";
        return s;
}

const std::vector<ConfigKey>& config_schema() {
        static const std::vector<ConfigKey> schema{
                scalar_key<&Config::public_selector>(
                        {"Interfaces", "Public",
                         "The ENI facing the internet: kernel name, altname or MAC address."},
                        selector_value()),
                scalar_key<&Config::private_selector>(
                        {"Interfaces", "Private",
                         "The ENI the private subnets route to; none: single-ENI mode, the "
                         "public ENI relays for SourceCIDRs."},
                        selector_or_none_value()),
                scalar_key<&Config::wait_timeout>(
                        {"Interfaces", "WaitTimeoutSec",
                         "How long to wait for both interfaces before giving up (exit 1)."},
                        timespan_value()),
                list_key<&Config::subnets>(
                        {"Routes", "Subnets",
                         "The private subnets that send traffic through this NAT."},
                        subnet_value()),
                scalar_key<&Config::gateway>({"Routes", "Gateway",
                                              "The next hop of the return routes; empty: .1 of the "
                                              "private ENI's subnet."},
                                             address_value()),
                list_key<&Config::source_cidrs>(
                        {"NAT", "SourceCIDRs",
                         "The sources forwarded and masqueraded from the private ENI; empty: "
                         "Subnets plus the private ENI's subnet."},
                        subnet_value()),
                scalar_key<&Config::forward_policy>(
                        {"NAT", "ForwardPolicy",
                         "drop: natd's forward chain drops all other forwarded traffic; accept: "
                         "only what concerns its two ENIs (for Docker, VPNs)."},
                        enum_value<ForwardPolicy>({{"drop", ForwardPolicy::Drop},
                                                   {"accept", ForwardPolicy::Accept}})),
                list_key<&Config::nat_addresses>(
                        {"NAT", "Addresses",
                         "The public ENI's own addresses NAT traffic leaves from (SNAT pool); "
                         "empty: its primary address (masquerade)."},
                        address_value()),
                scalar_key<&Config::pool_mode>(
                        {"NAT", "PoolMode",
                         "How a connection picks its address from Addresses=: persistent (by "
                         "client), random (per connection)."},
                        enum_value<PoolMode>({{"persistent", PoolMode::Persistent},
                                              {"random", PoolMode::Random}})),
                scalar_key<&Config::port_allocation>(
                        {"NAT", "PortAllocation",
                         "How masquerade picks source ports: sequential (keep the client's), "
                         "random (hashed start), fully-random (random per connection)."},
                        enum_value<PortAllocation>(
                                {{"sequential", PortAllocation::Sequential},
                                 {"random", PortAllocation::Random},
                                 {"fully-random", PortAllocation::FullyRandom}})),
                scalar_key<&Config::port_range>({"NAT", "PortRange",
                                                 "The source ports masquerade uses for TCP and "
                                                 "UDP, FIRST-LAST; empty: any."},
                                                port_range_value()),
                scalar_key<&Config::clamp_mss>(
                        {"NAT", "ClampMSS",
                         "TCP MSS of SYNs leaving the public ENI: auto (the route's MTU), no, or "
                         "bytes."},
                        clamp_mss_value()),
                scalar_key<&Config::flow_offload>(
                        {"NAT", "FlowOffload",
                         "A flowtable for established TCP and UDP flows: auto (where the kernel "
                         "has flowtables), yes (required), no."},
                        enum_value<FlowOffload>({{"auto", FlowOffload::Auto},
                                                 {"yes", FlowOffload::Yes},
                                                 {"no", FlowOffload::No}})),
                scalar_key<&Config::conntrack_max>(
                        {"Conntrack", "Max",
                         "The most connections conntrack tracks (net.netfilter.nf_conntrack_max); "
                         "auto: from memory."},
                        auto_number_value(1024, 1U << 30)),
                scalar_key<&Config::conntrack_hash_size>(
                        {"Conntrack", "HashSize",
                         "Buckets of conntrack's hash table (nf_conntrack_buckets); auto: one per "
                         "entry of Max=."},
                        auto_number_value(1024, 1U << 30)),
                scalar_key<&Config::tcp_established_timeout_sec>(
                        {"Conntrack", "TCPEstablishedTimeoutSec",
                         "How long an idle established TCP connection is kept, like NAT "
                         "Gateway's 350 s."},
                        seconds_value(30, 5 * 24 * 3600)),
                scalar_key<&Config::udp_timeout_sec>(
                        {"Conntrack", "UDPTimeoutSec",
                         "How long an idle UDP flow that saw replies is kept "
                         "(nf_conntrack_udp_timeout_stream); empty: the kernel's."},
                        seconds_value(10, 5 * 24 * 3600)),
                scalar_key<&Config::metrics_textfile_directory>(
                        {"Metrics", "TextfileDirectory",
                         "Where natd writes natd.prom for node_exporter's textfile collector; "
                         "empty: no file."},
                        directory_value()),
                scalar_key<&Config::metrics_listen>(
                        {"Metrics", "Listen",
                         "ADDRESS:PORT natd serves GET /metrics on, e.g. 127.0.0.1:9647; empty: "
                         "no HTTP endpoint."},
                        endpoint_value()),
                scalar_key<&Config::imds>(
                        {"Discovery", "IMDS",
                         "Ask the instance metadata service (IMDSv2) for the ENIs, VPC CIDRs and "
                         "public IPs: auto (when it answers), yes (required), no."},
                        enum_value<ImdsMode>({{"auto", ImdsMode::Auto},
                                              {"yes", ImdsMode::Yes},
                                              {"no", ImdsMode::No}})),
                scalar_key<&Config::imds_endpoint>(
                        {"Discovery", "IMDSEndpoint",
                         "The metadata service's URL: http://ADDRESS[:PORT], IPv6 in brackets "
                         "(http://[fd00:ec2::254])."},
                        http_endpoint_value()),
                scalar_key<&Config::ha_peer>(
                        {"HighAvailability", "Peer",
                         "The other NAT's address on the private ENI's subnet; set, natd runs an "
                         "active/standby pair with it; empty: no pair."},
                        address_value()),
                scalar_key<&Config::ha_priority>(
                        {"HighAvailability", "Priority",
                         "VRRP priority, 1..254: the higher one becomes active when both start."},
                        number_value<uint32_t>(1, 254)),
                list_key<&Config::ha_route_tables>(
                        {"HighAvailability", "RouteTables",
                         "The private route tables (rtb-...) whose 0.0.0.0/0 the active NAT "
                         "points at its private ENI."},
                        resource_id_value("rtb")),
                scalar_key<&Config::ha_floating_address>(
                        {"HighAvailability", "FloatingAddress",
                         "A secondary private address of the public subnet, associated with the "
                         "pair's Elastic IP: the active NAT holds it and SNATs to it."},
                        address_value()),
                scalar_key<&Config::ha_sync_interface>(
                        {"HighAvailability", "SyncInterface",
                         "The interface VRRP and conntrackd's state sync use; empty: the private "
                         "ENI."},
                        selector_value()),
                scalar_key<&Config::ha_advertisement_interval_msec>(
                        {"HighAvailability", "AdvertisementIntervalSec",
                         "How often the active NAT advertises (VRRPv3): 10ms..40s in steps of "
                         "10ms; the standby takes over after about three missed."},
                        milliseconds_value(10, 40'000, 10)),
                scalar_key<&Config::ha_preempt>(
                        {"HighAvailability", "Preempt",
                         "yes: a higher-priority NAT takes over again when it returns (a second "
                         "disruption); no: the active one stays."},
                        boolean_value()),
                scalar_key<&Config::ha_virtual_router_id>(
                        {"HighAvailability", "VirtualRouterID",
                         "The pair's VRRP id, 1..255; different pairs sharing a subnet need "
                         "different ids."},
                        number_value<uint32_t>(1, 255)),
                scalar_key<&Config::ec2_endpoint>(
                        {"HighAvailability", "EC2Endpoint",
                         "The EC2 API's URL; empty: https://ec2.REGION.amazonaws.com for the "
                         "region IMDS names."},
                        api_endpoint_value()),
                scalar_key<&Config::health_listen>(
                        {"Health", "Listen",
                         "ADDRESS:PORT natd answers GET /health on (200 ready, 503 not), e.g. "
                         "0.0.0.0:8008; empty: no health endpoint."},
                        endpoint_value()),
        };
        return schema;
}

std::size_t config_key_index(const Config& config, const void* field) {
        const auto& schema = config_schema();
        for (std::size_t i = 0; i < schema.size(); ++i)
                if (schema[i].field(config) == field)
                        return i;
        std::abort();  // a member of Config without a row in the schema
}

}  // namespace natd
