#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "config-dump.hpp"

using natd::ConfigSource;
using natd::format_config_dump;
using natd::parse_config;

TEST_CASE("--dump-config: every key, its value and where it came from", "[config-dump]") {
        const auto load = parse_config({
                {"/etc/natd/natd.conf", "[Interfaces]\n"
                                        "Public=ens5\n"
                                        "[Routes]\n"
                                        "Subnets=10.0.1.0/24 10.0.2.0/24\n"},
                {"/etc/natd/natd.conf.d/10-vpc.conf", "[Routes]\n"
                                                      "Subnets=\n"
                                                      "Subnets=10.0.3.0/24\n"
                                                      "Subnets=10.0.4.0/24 10.0.3.0/24\n"
                                                      "[Interfaces]\n"
                                                      "WaitTimeoutSec=90\n"},
        });
        REQUIRE(load.ok());
        CHECK(format_config_dump(load) ==
              "# natd's effective configuration, read from:\n"
              "#   /etc/natd/natd.conf\n"
              "#   /etc/natd/natd.conf.d/10-vpc.conf\n"
              "# Above each assignment: the file and line it comes from, or \"default\".\n"
              "\n"
              "[Interfaces]\n"
              "# The ENI facing the internet: kernel name, altname or MAC address.\n"
              "# /etc/natd/natd.conf:2\n"
              "Public=ens5\n"
              "\n"
              "# The ENI the private subnets route to; none: single-ENI mode, the public ENI "
              "relays for SourceCIDRs.\n"
              "# default\n"
              "Private=device-number-1\n"
              "\n"
              "# How long to wait for both interfaces before giving up (exit 1).\n"
              "# /etc/natd/natd.conf.d/10-vpc.conf:6\n"
              "WaitTimeoutSec=1min 30s\n"
              "\n"
              "[Routes]\n"
              "# The private subnets that send traffic through this NAT.\n"
              "# /etc/natd/natd.conf.d/10-vpc.conf:2\n"
              "Subnets=\n"
              "# /etc/natd/natd.conf.d/10-vpc.conf:3\n"
              "Subnets=10.0.3.0/24\n"
              "# /etc/natd/natd.conf.d/10-vpc.conf:4\n"
              "Subnets=10.0.4.0/24\n"
              "\n"
              "# The next hop of the return routes; empty: .1 of the private ENI's subnet.\n"
              "# default\n"
              "Gateway=\n"
              "\n"
              "[NAT]\n"
              "# The sources forwarded and masqueraded from the private ENI; empty: Subnets "
              "plus the private ENI's subnet.\n"
              "# default\n"
              "SourceCIDRs=\n"
              "\n"
              "# drop: natd's forward chain drops all other forwarded traffic; accept: only "
              "what concerns its two ENIs (for Docker, VPNs).\n"
              "# default\n"
              "ForwardPolicy=drop\n"
              "\n"
              "# The public ENI's own addresses NAT traffic leaves from (SNAT pool); empty: its "
              "primary address (masquerade).\n"
              "# default\n"
              "Addresses=\n"
              "\n"
              "# How a connection picks its address from Addresses=: persistent (by client), "
              "random (per connection).\n"
              "# default\n"
              "PoolMode=persistent\n"
              "\n"
              "# How masquerade picks source ports: sequential (keep the client's), random "
              "(hashed start), fully-random (random per connection).\n"
              "# default\n"
              "PortAllocation=fully-random\n"
              "\n"
              "# The source ports masquerade uses for TCP and UDP, FIRST-LAST; empty: any.\n"
              "# default\n"
              "PortRange=\n"
              "\n"
              "# TCP MSS of SYNs leaving the public ENI: auto (the route's MTU), no, or bytes.\n"
              "# default\n"
              "ClampMSS=auto\n"
              "\n"
              "# A flowtable for established TCP and UDP flows: auto (where the kernel has "
              "flowtables), yes (required), no.\n"
              "# default\n"
              "FlowOffload=auto\n"
              "\n"
              "[Conntrack]\n"
              "# The most connections conntrack tracks (net.netfilter.nf_conntrack_max); auto: "
              "from memory.\n"
              "# default\n"
              "Max=auto\n"
              "\n"
              "# Buckets of conntrack's hash table (nf_conntrack_buckets); auto: one per entry "
              "of Max=.\n"
              "# default\n"
              "HashSize=auto\n"
              "\n"
              "# How long an idle established TCP connection is kept, like NAT Gateway's 350 "
              "s.\n"
              "# default\n"
              "TCPEstablishedTimeoutSec=5min 50s\n"
              "\n"
              "# How long an idle UDP flow that saw replies is kept "
              "(nf_conntrack_udp_timeout_stream); empty: the kernel's.\n"
              "# default\n"
              "UDPTimeoutSec=\n"
              "\n"
              "[Metrics]\n"
              "# Where natd writes natd.prom for node_exporter's textfile collector; empty: no "
              "file.\n"
              "# default\n"
              "TextfileDirectory=\n"
              "\n"
              "# ADDRESS:PORT natd serves GET /metrics on, e.g. 127.0.0.1:9647; empty: no HTTP "
              "endpoint.\n"
              "# default\n"
              "Listen=\n"
              "\n"
              "[Discovery]\n"
              "# Ask the instance metadata service (IMDSv2) for the ENIs, VPC CIDRs and public "
              "IPs: auto (when it answers), yes (required), no.\n"
              "# default\n"
              "IMDS=auto\n"
              "\n"
              "# The metadata service's URL: http://ADDRESS[:PORT], IPv6 in brackets "
              "(http://[fd00:ec2::254]).\n"
              "# default\n"
              "IMDSEndpoint=http://169.254.169.254\n"
              "\n"
              "[HighAvailability]\n"
              "# The other NAT's address on the private ENI's subnet; set, natd runs an "
              "active/standby pair with it; empty: no pair.\n"
              "# default\n"
              "Peer=\n"
              "\n"
              "# VRRP priority, 1..254: the higher one becomes active when both start.\n"
              "# default\n"
              "Priority=100\n"
              "\n"
              "# The private route tables (rtb-...) whose 0.0.0.0/0 the active NAT points at its "
              "private ENI.\n"
              "# default\n"
              "RouteTables=\n"
              "\n"
              "# A secondary private address of the public subnet, associated with the pair's "
              "Elastic IP: the active NAT holds it and SNATs to it.\n"
              "# default\n"
              "FloatingAddress=\n"
              "\n"
              "# The interface VRRP and conntrackd's state sync use; empty: the private ENI.\n"
              "# default\n"
              "SyncInterface=\n"
              "\n"
              "# How often the active NAT advertises (VRRPv3): 10ms..40s in steps of 10ms; the "
              "standby takes over after about three missed.\n"
              "# default\n"
              "AdvertisementIntervalSec=1s\n"
              "\n"
              "# yes: a higher-priority NAT takes over again when it returns (a second "
              "disruption); no: the active one stays.\n"
              "# default\n"
              "Preempt=no\n"
              "\n"
              "# The pair's VRRP id, 1..255; different pairs sharing a subnet need different ids.\n"
              "# default\n"
              "VirtualRouterID=51\n"
              "\n"
              "# The EC2 API's URL; empty: https://ec2.REGION.amazonaws.com for the region IMDS "
              "names.\n"
              "# default\n"
              "EC2Endpoint=\n"
              "\n"
              "[Health]\n"
              "# ADDRESS:PORT natd answers GET /health on (200 ready, 503 not), e.g. 0.0.0.0:8008; "
              "empty: no health endpoint.\n"
              "# default\n"
              "Listen=\n");
}

TEST_CASE("--dump-config without any file", "[config-dump]") {
        const auto dump = format_config_dump(parse_config({}));
        CHECK(dump.starts_with("# natd's effective configuration: no configuration files, every "
                               "key has its default.\n"));
        // Nothing but defaults, and every key once.
        CHECK(dump.find("\n# /") == std::string::npos);
        for (const char* line : {"\nPublic=device-number-0\n", "\nPrivate=device-number-1\n",
                                 "\nWaitTimeoutSec=infinity\n", "\nSubnets=\n", "\nGateway=\n"}) {
                CAPTURE(line);
                const auto at = dump.find(line);
                CHECK(at != std::string::npos);
                CHECK(dump.find(line, at + 1) == std::string::npos);
        }
}

TEST_CASE("--dump-config reads back as the same configuration", "[config-dump]") {
        const std::vector<std::vector<ConfigSource>> configurations{
                {},
                {{"a.conf",
                  "[Interfaces]\nPublic=0A:1B:2C:3D:4E:5F\nPrivate=eni-0123456789abcdef0\n"
                  "WaitTimeoutSec=1h 2min 3s 4ms\n"
                  "[Routes]\nSubnets=10.0.1.0/24\nSubnets=192.168.0.0/16 10.0.2.0/24\n"
                  "Gateway=10.0.1.1\n"}},
                {{"a.conf", "[Routes]\nSubnets=10.0.1.0/24\nGateway=10.0.1.1\n"},
                 {"b.conf", "[Routes]\nSubnets=\nGateway=\n[Interfaces]\nWaitTimeoutSec=0\n"}},
        };
        for (const auto& sources : configurations) {
                const auto load = parse_config(sources);
                REQUIRE(load.ok());
                const auto dump = format_config_dump(load);
                CAPTURE(dump);
                const auto again = parse_config({{"dump.conf", dump}});
                REQUIRE(again.ok());
                CHECK(again.config == load.config);
        }
}
