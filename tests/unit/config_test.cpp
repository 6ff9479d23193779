#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include "blocking-guard.hpp"
#include "config-schema.hpp"
#include "config.hpp"

using natd::Config;
using natd::ConfigError;
using natd::ConfigLoad;
using natd::ConfigLocation;
using natd::ConfigSource;
using natd::ImdsMode;
using natd::Ipv4Address;
using natd::Ipv4Cidr;
using natd::load_config;
using natd::parse_config;
using natd::Selector;
using std::chrono::microseconds;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> error_strings(const ConfigLoad& load) {
        std::vector<std::string> v;
        for (const auto& e : load.errors)
                v.push_back(e.str());
        return v;
}

// Parses and returns the errors as "FILE:LINE: message" lines.
std::vector<std::string> errors_of(const std::vector<ConfigSource>& sources) {
        return error_strings(parse_config(sources));
}

std::vector<std::string> subnet_strings(const Config& c) {
        std::vector<std::string> v;
        for (const auto& s : c.subnets)
                v.push_back(s.str());
        return v;
}

Config parse_ok(const std::vector<ConfigSource>& sources) {
        const auto load = parse_config(sources);
        CAPTURE(error_strings(load));
        REQUIRE(load.ok());
        return load.config;
}

using Strings = std::vector<std::string>;

const std::string differ = "; the public and private interfaces must differ";

}  // namespace

TEST_CASE("ConfigError::str", "[config]") {
        CHECK(ConfigError{"a.conf", 3, "boom"}.str() == "a.conf:3: boom");
        CHECK(ConfigError{"/etc/natd/natd.conf", 0, "Permission denied"}.str() ==
              "/etc/natd/natd.conf: Permission denied");
}

TEST_CASE("no configuration at all means the defaults", "[config]") {
        for (const auto& sources : std::vector<std::vector<ConfigSource>>{
                     {},
                     {{"empty.conf", ""}},
                     {{"blank.conf", "\n\n   \n\t\n"}},
                     {{"comments.conf", "# nothing\n; to see\n   # here\n"}},
                     {{"sections.conf", "[Interfaces]\n[Routes]\n"}},
             }) {
                const auto c = parse_ok(sources);
                CHECK(c == Config{});
                CHECK(c.public_selector.str() == "device-number-0");
                CHECK(c.private_selector->str() == "device-number-1");
                CHECK_FALSE(c.wait_timeout.has_value());
                CHECK(c.subnets.empty());
                CHECK_FALSE(c.gateway.has_value());
        }
}

TEST_CASE("a complete configuration", "[config]") {
        const std::string text = "\xEF\xBB\xBF"  // a BOM, as editors on other systems write
                                 "# natd.conf\n"
                                 "; also a comment\n"
                                 "\n"
                                 "[Interfaces]\n"
                                 "   # indented comment\n"
                                 "  Public = ens5  \n"
                                 "Private=0A:1B:2C:3D:4E:5F\r\n"
                                 "\tWaitTimeoutSec=\t1min 30s\n"
                                 "[Routes]\n"
                                 "Subnets=10.0.1.0/24   10.0.2.0/24\t10.0.3.0/24\n"
                                 "Gateway=10.0.0.1";  // no final newline
        const auto c = parse_ok({{"natd.conf", text}});
        CHECK(c.public_selector == Selector::parse("ens5").value());
        CHECK(c.private_selector->str() == "0a:1b:2c:3d:4e:5f");
        CHECK(c.private_selector->is_mac());
        CHECK(c.wait_timeout == microseconds{90000000});
        CHECK(subnet_strings(c) == Strings{"10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"});
        CHECK(c.gateway == Ipv4Address::parse("10.0.0.1").value());
}

TEST_CASE("scalars: last assignment wins, empty restores the default", "[config]") {
        SECTION("within one file") {
                const auto c = parse_ok({{"a.conf", "[Interfaces]\n"
                                                    "Public=eth0\n"
                                                    "Public=eth2\n"
                                                    "WaitTimeoutSec=5s\n"
                                                    "WaitTimeoutSec=10s\n"
                                                    "[Routes]\n"
                                                    "Gateway=10.0.0.1\n"
                                                    "Gateway=10.0.0.2\n"}});
                CHECK(c.public_selector.str() == "eth2");
                CHECK(c.wait_timeout == microseconds{10000000});
                CHECK(c.gateway->str() == "10.0.0.2");
        }
        SECTION("across files") {
                const auto c = parse_ok({
                        {"main.conf", "[Interfaces]\nPublic=eth0\nPrivate=eth1\n"
                                      "WaitTimeoutSec=30\n[Routes]\nGateway=10.0.0.1\n"},
                        {"override.conf", "[Interfaces]\nPrivate=eth3\n"},
                });
                CHECK(c.public_selector.str() == "eth0");
                CHECK(c.private_selector->str() == "eth3");
                CHECK(c.wait_timeout == microseconds{30000000});
                CHECK(c.gateway->str() == "10.0.0.1");
        }
        SECTION("empty assignments") {
                const auto c = parse_ok({
                        {"main.conf", "[Interfaces]\nPublic=eth0\nPrivate=eth1\n"
                                      "WaitTimeoutSec=30\n[Routes]\nGateway=10.0.0.1\n"},
                        {"reset.conf", "[Interfaces]\nPublic=\nPrivate=  \nWaitTimeoutSec=\n"
                                       "[Routes]\nGateway=\n"},
                });
                CHECK(c == Config{});
        }
        SECTION("infinity is explicit too") {
                const auto c = parse_ok({{"a.conf", "[Interfaces]\nWaitTimeoutSec=5s\n"
                                                    "WaitTimeoutSec=infinity\n"}});
                CHECK_FALSE(c.wait_timeout.has_value());
        }
}

TEST_CASE("Subnets= accumulates, resets and deduplicates", "[config]") {
        struct Row {
                std::string name;
                std::vector<ConfigSource> sources;
                Strings subnets;
        };
        const std::vector<Row> rows{
                {"one line",
                 {{"a.conf", "[Routes]\nSubnets=10.0.1.0/24 10.0.2.0/24\n"}},
                 {"10.0.1.0/24", "10.0.2.0/24"}},
                {"several lines",
                 {{"a.conf", "[Routes]\nSubnets=10.0.1.0/24\nSubnets=10.0.2.0/24\n"}},
                 {"10.0.1.0/24", "10.0.2.0/24"}},
                {"two sources",
                 {{"a.conf", "[Routes]\nSubnets=10.0.1.0/24\n"},
                  {"b.conf", "[Routes]\nSubnets=10.0.2.0/24 10.0.3.0/24\n"}},
                 {"10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"}},
                {"reset in the second source",
                 {{"a.conf", "[Routes]\nSubnets=10.0.1.0/24 10.0.2.0/24\n"},
                  {"b.conf", "[Routes]\nSubnets=\nSubnets=10.0.3.0/24\n"}},
                 {"10.0.3.0/24"}},
                {"reset at the very end",
                 {{"a.conf", "[Routes]\nSubnets=10.0.1.0/24\n"},
                  {"b.conf", "[Routes]\nSubnets=\n"}},
                 {}},
                {"duplicates keep the first position",
                 {{"a.conf", "[Routes]\nSubnets=10.0.2.0/24 10.0.1.0/24 10.0.2.0/24\n"},
                  {"b.conf", "[Routes]\nSubnets=10.0.3.0/24 10.0.1.0/24\n"}},
                 {"10.0.2.0/24", "10.0.1.0/24", "10.0.3.0/24"}},
                {"a reset forgets what it removed",
                 {{"a.conf", "[Routes]\nSubnets=10.0.1.0/24 10.0.2.0/24\nSubnets=\n"
                             "Subnets=10.0.2.0/24 10.0.1.0/24\n"}},
                 {"10.0.2.0/24", "10.0.1.0/24"}},
        };
        for (const auto& row : rows) {
                CAPTURE(row.name);
                CHECK(subnet_strings(parse_ok(row.sources)) == row.subnets);
        }
}

TEST_CASE("syntax errors carry FILE:LINE", "[config]") {
        struct Row {
                std::string text;
                Strings errors;
        };
        const std::vector<Row> rows{
                {"Public=eth0\n", {"f.conf:1: assignment outside of any section"}},
                {"# header comes later\n\nPublic=eth0\nPrivate=eth1\n[Interfaces]\n",
                 {"f.conf:3: assignment outside of any section",
                  "f.conf:4: assignment outside of any section"}},
                {"[Interfaces]\ngarbage\n", {"f.conf:2: missing '=' in line 'garbage'"}},
                {"[Interfaces]\n=eth0\n", {"f.conf:2: missing key name before '='"}},
                {"[Interfaces]\n  = eth0\n", {"f.conf:2: missing key name before '='"}},
                {"[Interfaces\nPublic=eth0\n",
                 {"f.conf:1: invalid section header '[Interfaces': expected [Section]"}},
                {"[]\n", {"f.conf:1: invalid section header '[]': expected [Section]"}},
                {"[\n", {"f.conf:1: invalid section header '[': expected [Section]"}},
                {"[Interfaces] # comment\n",
                 {"f.conf:1: invalid section header '[Interfaces] # comment': expected "
                  "[Section]"}},
                {"[Foo]\nBar=1\nBaz=2\n[Routes]\nSubnets=10.0.0.0/8\n",
                 {"f.conf:1: unknown section [Foo]"}},
                {"[interfaces]\nPublic=eth0\n", {"f.conf:1: unknown section [interfaces]"}},
                {"[ Interfaces ]\n", {"f.conf:1: unknown section [ Interfaces ]"}},
                {"[Foo]\nBar=1\n[Foo]\nBar=2\n",
                 {"f.conf:1: unknown section [Foo]", "f.conf:3: unknown section [Foo]"}},
                // Syntax errors are still syntax errors inside an unknown section.
                {"[Foo]\nno equals sign\n",
                 {"f.conf:1: unknown section [Foo]",
                  "f.conf:2: missing '=' in line 'no equals sign'"}},
                {"[Interfaces]\nPublc=eth0\n",
                 {"f.conf:2: unknown key 'Publc' in section [Interfaces]"}},
                {"[Interfaces]\npublic=eth0\n",
                 {"f.conf:2: unknown key 'public' in section [Interfaces]"}},
                {"[Interfaces]\nPUBLIC=eth0\n",
                 {"f.conf:2: unknown key 'PUBLIC' in section [Interfaces]"}},
                {"[Interfaces]\nSubnets=10.0.0.0/8\n",
                 {"f.conf:2: unknown key 'Subnets' in section [Interfaces]"}},
                {"[Routes]\nPublic=eth0\n", {"f.conf:2: unknown key 'Public' in section [Routes]"}},
                {"[Routes]\nWait Timeout=1\n",
                 {"f.conf:2: unknown key 'Wait Timeout' in section [Routes]"}},
                // '#' starts a comment only at the beginning of a line.
                {"[Interfaces]\nPublic=eth0 # the public one\n",
                 {"f.conf:2: invalid selector 'eth0 # the public one' in Public=: interface "
                  "names cannot contain whitespace"}},
        };
        for (const auto& row : rows) {
                CAPTURE(row.text);
                CHECK(errors_of({{"f.conf", row.text}}) == row.errors);
        }
}

TEST_CASE("value errors carry FILE:LINE", "[config]") {
        struct Row {
                std::string text;
                Strings errors;
        };
        const std::vector<Row> rows{
                {"[Interfaces]\nPublic=zz:00:00:00:00:00\n",
                 {"f.conf:2: invalid MAC address 'zz:00:00:00:00:00' in Public=: expected six "
                  "colon-separated pairs of hex digits"}},
                {"[Interfaces]\nPrivate=ens5:1\n",
                 {"f.conf:2: invalid MAC address 'ens5:1' in Private=: expected six "
                  "colon-separated pairs of hex digits"}},
                {"[Interfaces]\nPrivate=eth/1\n",
                 {"f.conf:2: invalid selector 'eth/1' in Private=: interface names cannot "
                  "contain '/'"}},
                {"[Interfaces]\nPublic=..\n",
                 {"f.conf:2: invalid selector '..' in Public=: '.' and '..' are not interface "
                  "names"}},
                {"[Interfaces]\nPublic=" + std::string(128, 'e') + "\n",
                 {"f.conf:2: invalid selector '" + std::string(128, 'e') +
                  "' in Public=: interface names and altnames are at most 127 characters"}},
                {"[Interfaces]\nWaitTimeoutSec=5 parsecs\n",
                 {"f.conf:2: invalid time span '5 parsecs' in WaitTimeoutSec=: unknown unit "
                  "'parsecs'"}},
                {"[Interfaces]\nWaitTimeoutSec=-1\n",
                 {"f.conf:2: invalid time span '-1' in WaitTimeoutSec=: negative time spans are "
                  "not allowed"}},
                {"[Routes]\nSubnets=10.0.0.0/33\n",
                 {"f.conf:2: invalid CIDR '10.0.0.0/33' in Subnets=: prefix length must be "
                  "0..32"}},
                {"[Routes]\nSubnets=10.0.0.0\n",
                 {"f.conf:2: invalid CIDR '10.0.0.0' in Subnets=: missing '/' and prefix "
                  "length"}},
                {"[Routes]\nSubnets=10.0.0.0/8,10.1.0.0/16\n",
                 {"f.conf:2: invalid CIDR '10.0.0.0/8,10.1.0.0/16' in Subnets=: prefix length "
                  "must be 0..32"}},
                {"[Routes]\nSubnets=10.0.1.5/24\n",
                 {"f.conf:2: '10.0.1.5/24' in Subnets= has host bits set; did you mean "
                  "10.0.1.0/24?"}},
                // Every bad item is reported, the good ones are kept.
                {"[Routes]\nSubnets=10.0.0.0/33 10.0.1.0/24 300.0.0.0/8 10.0.2.1/24\n",
                 {"f.conf:2: invalid CIDR '10.0.0.0/33' in Subnets=: prefix length must be 0..32",
                  "f.conf:2: invalid CIDR '300.0.0.0/8' in Subnets=: octet '300' is out of range "
                  "0..255",
                  "f.conf:2: '10.0.2.1/24' in Subnets= has host bits set; did you mean "
                  "10.0.2.0/24?"}},
                {"[Routes]\nGateway=x\n",
                 {"f.conf:2: invalid address 'x' in Gateway=: expected four dot-separated "
                  "decimal octets"}},
                {"[Routes]\nGateway=10.0.0.01\n",
                 {"f.conf:2: invalid address '10.0.0.01' in Gateway=: octet '01' has a leading "
                  "zero"}},
                {"[Routes]\nGateway=10.0.0.1/24\n",
                 {"f.conf:2: invalid address '10.0.0.1/24' in Gateway=: octet '1/24' is not a "
                  "decimal number"}},
                {"[NAT]\nSourceCIDRs=10.0.0.0/8 10.9.9.9/24 10.0.0.0/40\n",
                 {"f.conf:2: '10.9.9.9/24' in SourceCIDRs= has host bits set; did you mean "
                  "10.9.9.0/24?",
                  "f.conf:2: invalid CIDR '10.0.0.0/40' in SourceCIDRs=: prefix length must be "
                  "0..32"}},
                {"[NAT]\nForwardPolicy=reject\n",
                 {"f.conf:2: invalid value 'reject' in ForwardPolicy=: expected drop|accept"}},
                {"[NAT]\nForwardPolicy=Drop\n",
                 {"f.conf:2: invalid value 'Drop' in ForwardPolicy=: expected drop|accept"}},
                {"[Routes]\nForwardPolicy=accept\n",
                 {"f.conf:2: unknown key 'ForwardPolicy' in section [Routes]"}},
                {"[NAT]\nPortAllocation=random-fully\n",
                 {"f.conf:2: invalid value 'random-fully' in PortAllocation=: expected "
                  "sequential|random|fully-random"}},
                {"[Metrics]\nListen=127.0.0.1\n",
                 {"f.conf:2: invalid address '127.0.0.1' in Listen=: expected ADDRESS:PORT, "
                  "e.g. 127.0.0.1:9647"}},
                {"[Metrics]\nListen=127.0.0.1:0\n",
                 {"f.conf:2: invalid address '127.0.0.1:0' in Listen=: the port must be a number "
                  "1..65535"}},
                {"[Metrics]\nListen=localhost:9647\n",
                 {"f.conf:2: invalid address 'localhost:9647' in Listen=: 'localhost': expected "
                  "four dot-separated decimal octets"}},
                {"[Metrics]\nTextfileDirectory=var/lib/node_exporter\n",
                 {"f.conf:2: invalid directory 'var/lib/node_exporter' in TextfileDirectory=: "
                  "expected an absolute path"}},
                {"[Metrics]\nTextfileDirectory=/var/lib/../../etc\n",
                 {"f.conf:2: invalid directory '/var/lib/../../etc' in TextfileDirectory=: '.' "
                  "and '..' are not allowed"}},
                {"[NAT]\nPortRange=1024\n",
                 {"f.conf:2: invalid port range '1024' in PortRange=: expected FIRST-LAST, e.g. "
                  "1024-65535"}},
                {"[NAT]\nPortRange=2000-1000\n",
                 {"f.conf:2: invalid port range '2000-1000' in PortRange=: the first port is "
                  "above the last"}},
                {"[NAT]\nPortRange=0-1000\n",
                 {"f.conf:2: invalid number '0' in PortRange=: out of range 1..65535"}},
                {"[NAT]\nPortRange=1024-65536\n",
                 {"f.conf:2: invalid number '65536' in PortRange=: out of range 1..65535"}},
                {"[NAT]\nClampMSS=yes\n",
                 {"f.conf:2: invalid value 'yes' in ClampMSS=: expected auto, no or an MSS in "
                  "bytes"}},
                {"[NAT]\nClampMSS=100\n",
                 {"f.conf:2: invalid number '100' in ClampMSS=: out of range 536..65495"}},
                {"[NAT]\nClampMSS=-1\n",
                 {"f.conf:2: invalid value '-1' in ClampMSS=: expected auto, no or an MSS in "
                  "bytes"}},
        };
        for (const auto& row : rows) {
                CAPTURE(row.text);
                CHECK(errors_of({{"f.conf", row.text}}) == row.errors);
        }
}

TEST_CASE("[NAT]: SourceCIDRs= and ForwardPolicy=", "[config]") {
        const auto defaults = parse_ok({});
        CHECK(defaults.source_cidrs.empty());  // resolved when planning
        CHECK(defaults.forward_policy == natd::ForwardPolicy::Drop);
        const auto c = parse_ok({{"a.conf", "[NAT]\nSourceCIDRs=10.0.1.0/24\n"
                                            "SourceCIDRs=10.0.8.0/21 10.0.1.0/24\n"
                                            "ForwardPolicy=accept\n"},
                                 {"b.conf", "[NAT]\nForwardPolicy=drop\nForwardPolicy=accept\n"}});
        REQUIRE(c.source_cidrs.size() == 2);
        CHECK(c.source_cidrs[1].str() == "10.0.8.0/21");
        CHECK(c.forward_policy == natd::ForwardPolicy::Accept);
        CHECK(parse_ok({{"a.conf", "[NAT]\nForwardPolicy=accept\nForwardPolicy=\n"}})
                      .forward_policy == natd::ForwardPolicy::Drop);
}

TEST_CASE("[NAT]: PortAllocation=, PortRange= and ClampMSS=", "[config]") {
        const auto defaults = parse_ok({});
        CHECK(defaults.port_allocation == natd::PortAllocation::FullyRandom);
        CHECK_FALSE(defaults.port_range);
        CHECK(defaults.clamp_mss == natd::ClampMss{});
        const auto c = parse_ok({{"a.conf", "[NAT]\nPortAllocation=sequential\n"
                                            "PortRange=1024-65535\nClampMSS=1360\n"}});
        CHECK(c.port_allocation == natd::PortAllocation::Sequential);
        CHECK(c.port_range == natd::PortRange{1024, 65535});
        CHECK(c.clamp_mss == natd::ClampMss{natd::ClampMss::Mode::Fixed, 1360});
        CHECK(parse_ok({{"a.conf", "[NAT]\nClampMSS=no\n"}}).clamp_mss.mode ==
              natd::ClampMss::Mode::Off);
        CHECK(parse_ok({{"a.conf", "[NAT]\nPortRange=80-80\nPortRange=\n"}}).port_range ==
              std::nullopt);
}

TEST_CASE("[Metrics]: TextfileDirectory= and Listen=", "[config]") {
        const auto defaults = parse_ok({});
        CHECK(defaults.metrics_textfile_directory.empty());
        CHECK_FALSE(defaults.metrics_listen);
        const auto c = parse_ok({{"a.conf", "[Metrics]\nTextfileDirectory=/var/lib/node_exporter\n"
                                            "Listen=10.0.1.10:9100\n"}});
        CHECK(c.metrics_textfile_directory == "/var/lib/node_exporter");
        CHECK(c.metrics_listen ==
              natd::Ipv4Endpoint{natd::Ipv4Address::parse("10.0.1.10").value(), 9100});
        CHECK(c.metrics_listen->str() == "10.0.1.10:9100");
        CHECK_FALSE(parse_ok({{"a.conf", "[Metrics]\nListen=127.0.0.1:9647\nListen=\n"}})
                            .metrics_listen);
}

TEST_CASE("a rejected value leaves the previous one", "[config]") {
        const auto load = parse_config({{"f.conf", "[Interfaces]\nPublic=eth0\nPublic=e/0\n"
                                                   "[Routes]\nSubnets=10.0.0.0/8 10.0.0.0/33\n"}});
        CHECK(load.errors.size() == 2);
        CHECK(load.config.public_selector.str() == "eth0");
        CHECK(subnet_strings(load.config) == Strings{"10.0.0.0/8"});
}

TEST_CASE("every file starts outside any section", "[config]") {
        CHECK(errors_of({{"a.conf", "[Interfaces]\n"}, {"b.conf", "Public=eth0\n"}}) ==
              Strings{"b.conf:1: assignment outside of any section"});
}

TEST_CASE("all errors are reported, in order, across files", "[config]") {
        const std::string main_text = "# natd\n"                           // 1
                                      "[Interfaces]\n"                     // 2
                                      "Publc=eth0\n"                       // 3
                                      "Public=zz:00:00:00:00:00\n"         // 4
                                      "Private=eth 1\n"                    // 5
                                      "WaitTimeoutSec=5 parsecs\n"         // 6
                                      "garbage\n"                          // 7
                                      "[Routes]\n"                         // 8
                                      "Subnets=10.0.0.0/33 10.0.1.5/24\n"  // 9
                                      "Gateway=x\n"                        // 10
                                      "[Foo]\n"                            // 11
                                      "Bar=1\n"                            // 12
                                      "Baz=2\n"                            // 13
                                      "[Interfaces\n"                      // 14
                                      "Public=eth9\n"                      // 15
                                      "=value\n";                          // 16
        const std::string dropin = "[Routes]\n"                            // 1
                                   "Subnets=10.0.0.0/16 10.0.1.0/24\n"     // 2
                                   "Gateway=127.0.0.1\n"                   // 3
                                   "[Interfaces]\n"                        // 4
                                   "Public=device-number-1\n";             // 5
        CHECK(errors_of({{"/etc/natd/natd.conf", main_text},
                         {"/etc/natd/natd.conf.d/10-x.conf", dropin}}) ==
              Strings{
                      "/etc/natd/natd.conf:3: unknown key 'Publc' in section [Interfaces]",
                      "/etc/natd/natd.conf:4: invalid MAC address 'zz:00:00:00:00:00' in "
                      "Public=: expected six colon-separated pairs of hex digits",
                      "/etc/natd/natd.conf:5: invalid selector 'eth 1' in Private=: interface "
                      "names cannot contain whitespace",
                      "/etc/natd/natd.conf:6: invalid time span '5 parsecs' in WaitTimeoutSec=: "
                      "unknown unit 'parsecs'",
                      "/etc/natd/natd.conf:7: missing '=' in line 'garbage'",
                      "/etc/natd/natd.conf:9: invalid CIDR '10.0.0.0/33' in Subnets=: prefix "
                      "length must be 0..32",
                      "/etc/natd/natd.conf:9: '10.0.1.5/24' in Subnets= has host bits set; did "
                      "you mean 10.0.1.0/24?",
                      "/etc/natd/natd.conf:10: invalid address 'x' in Gateway=: expected four "
                      "dot-separated decimal octets",
                      "/etc/natd/natd.conf:11: unknown section [Foo]",
                      "/etc/natd/natd.conf:14: invalid section header '[Interfaces': expected "
                      "[Section]",
                      "/etc/natd/natd.conf:16: missing key name before '='",
                      // The checks that need every file read come last.
                      "/etc/natd/natd.conf.d/10-x.conf:5: Public=device-number-1 selects the "
                      "same interface as Private= (the default)" +
                              differ,
                      "/etc/natd/natd.conf.d/10-x.conf:2: subnets 10.0.0.0/16 "
                      "(/etc/natd/natd.conf.d/10-x.conf:2) and 10.0.1.0/24 overlap; list each "
                      "network once",
                      "/etc/natd/natd.conf.d/10-x.conf:3: Gateway=127.0.0.1 is a loopback "
                      "address, not a usable next hop",
              });
}

TEST_CASE("Public= and Private= must differ", "[config]") {
        struct Row {
                std::string name;
                std::vector<ConfigSource> sources;
                Strings errors;
        };
        const std::vector<Row> rows{
                {"both set in one file",
                 {{"a.conf", "[Interfaces]\nPublic=eth1\nPrivate=eth1\n"}},
                 {"a.conf:3: Private=eth1 selects the same interface as Public= (set at a.conf:2)" +
                  differ}},
                {"the later assignment is blamed, across files",
                 {{"a.conf", "[Interfaces]\nPrivate=eth1\n"},
                  {"b.conf", "[Interfaces]\nPublic=eth1\n"}},
                 {"b.conf:2: Public=eth1 selects the same interface as Private= (set at a.conf:2)" +
                  differ}},
                {"against the default",
                 {{"a.conf", "[Interfaces]\nPrivate=device-number-0\n"}},
                 {"a.conf:2: Private=device-number-0 selects the same interface as Public= (the "
                  "default)" +
                  differ}},
                {"MACs compare in any case",
                 {{"a.conf",
                   "[Interfaces]\nPublic=0A:1B:2C:3D:4E:5F\nPrivate=0a:1b:2c:3d:4e:5f\n"}},
                 {"a.conf:3: Private=0a:1b:2c:3d:4e:5f selects the same interface as Public= (set "
                  "at a.conf:2)" +
                  differ}},
                {"an empty assignment that restores a clashing default is blamed",
                 {{"a.conf", "[Interfaces]\nPrivate=device-number-0\nPublic=eth0\n"},
                  {"b.conf", "[Interfaces]\nPublic=\n"}},
                 {"b.conf:2: Public=device-number-0 selects the same interface as Private= (set "
                  "at a.conf:2)" +
                  differ}},
                {"a rejected assignment does not move the blame",
                 {{"a.conf", "[Interfaces]\nPrivate=eth1\nPublic=eth1\nPrivate=e/1\n"}},
                 {"a.conf:4: invalid selector 'e/1' in Private=: interface names cannot contain "
                  "'/'",
                  "a.conf:3: Public=eth1 selects the same interface as Private= (set at a.conf:2)" +
                          differ}},
                {"swapped defaults are fine",
                 {{"a.conf", "[Interfaces]\nPublic=device-number-1\nPrivate=device-number-0\n"}},
                 {}},
                {"fixed by a later assignment",
                 {{"a.conf", "[Interfaces]\nPublic=eth1\nPrivate=eth1\n"},
                  {"b.conf", "[Interfaces]\nPrivate=eth2\n"}},
                 {}},
                // Syntactic comparison only: that device-number-1 is 0a:... is
                // something only the links can tell.
                {"different spellings",
                 {{"a.conf", "[Interfaces]\nPublic=0a:1b:2c:3d:4e:5f\n"}},
                 {}},
        };
        for (const auto& row : rows) {
                CAPTURE(row.name);
                CHECK(errors_of(row.sources) == row.errors);
        }
}

TEST_CASE("overlapping subnets", "[config]") {
        struct Row {
                std::string name;
                std::vector<ConfigSource> sources;
                Strings errors;
        };
        const std::vector<Row> rows{
                {"on one line",
                 {{"a.conf", "[Routes]\nSubnets=10.0.0.0/16 10.0.1.0/24\n"}},
                 {"a.conf:2: subnets 10.0.0.0/16 (a.conf:2) and 10.0.1.0/24 overlap; list each "
                  "network once"}},
                {"across files, each pair named with its origin",
                 {{"a.conf", "[Routes]\nSubnets=10.0.1.0/24\n\nSubnets=10.1.0.0/16\n"},
                  {"b.conf", "# wide\n[Routes]\nSubnets=10.0.0.0/8\n"}},
                 {"b.conf:3: subnets 10.0.1.0/24 (a.conf:2) and 10.0.0.0/8 overlap; list each "
                  "network once",
                  "b.conf:3: subnets 10.1.0.0/16 (a.conf:4) and 10.0.0.0/8 overlap; list each "
                  "network once"}},
                {"equal subnets are just duplicates",
                 {{"a.conf", "[Routes]\nSubnets=10.0.1.0/24\n"},
                  {"b.conf", "[Routes]\nSubnets=10.0.1.0/24\n"}},
                 {}},
                {"adjacent subnets do not overlap",
                 {{"a.conf", "[Routes]\nSubnets=10.0.0.0/24 10.0.1.0/24 10.0.2.0/23\n"}},
                 {}},
                {"reset clears the overlap",
                 {{"a.conf", "[Routes]\nSubnets=10.0.0.0/16\n"},
                  {"b.conf", "[Routes]\nSubnets=\nSubnets=10.0.1.0/24\n"}},
                 {}},
                {"0.0.0.0/0 is refused, without overlap noise",
                 {{"a.conf", "[Routes]\nSubnets=10.0.0.0/8\nSubnets=0.0.0.0/0 192.168.0.0/16\n"}},
                 {"a.conf:3: 0.0.0.0/0 in Subnets= would hijack every destination; list the "
                  "private subnets instead"}},
                {"0.0.0.0/0 reset away",
                 {{"a.conf", "[Routes]\nSubnets=0.0.0.0/0\n"}, {"b.conf", "[Routes]\nSubnets=\n"}},
                 {}},
        };
        for (const auto& row : rows) {
                CAPTURE(row.name);
                CHECK(errors_of(row.sources) == row.errors);
        }
}

TEST_CASE("Gateway= must be a usable next hop", "[config]") {
        struct Row {
                std::string address;
                std::string problem;  // "" when fine
        };
        const std::vector<Row> rows{
                {"0.0.0.0", "the unspecified address"},
                {"255.255.255.255", "the broadcast address"},
                {"224.0.0.1", "a multicast address"},
                {"239.255.255.255", "a multicast address"},
                {"127.0.0.1", "a loopback address"},
                {"127.255.255.254", "a loopback address"},
                {"10.0.0.1", ""},
                {"0.0.0.1", ""},
                {"126.255.255.255", ""},
                {"128.0.0.1", ""},
                {"223.255.255.255", ""},
                {"240.0.0.1", ""},
                {"255.255.255.254", ""},
        };
        for (const auto& row : rows) {
                CAPTURE(row.address);
                const auto errors = errors_of(
                        {{"a.conf", "[Routes]\n# next hop\nGateway=" + row.address + "\n"}});
                if (row.problem.empty())
                        CHECK(errors.empty());
                else
                        CHECK(errors == Strings{"a.conf:3: Gateway=" + row.address + " is " +
                                                row.problem + ", not a usable next hop"});
        }
        SECTION("last wins, and only the final value is checked") {
                CHECK(errors_of({{"a.conf", "[Routes]\nGateway=127.0.0.1\n"},
                                 {"b.conf", "[Routes]\nGateway=10.0.0.1\n"}})
                              .empty());
                CHECK(errors_of({{"a.conf", "[Routes]\nGateway=127.0.0.1\nGateway=\n"}}).empty());
        }
        SECTION("a rejected value does not move the blame") {
                CHECK(errors_of({{"a.conf", "[Routes]\nGateway=127.0.0.1\nGateway=x\n"}}) ==
                      Strings{"a.conf:3: invalid address 'x' in Gateway=: expected four "
                              "dot-separated decimal octets",
                              "a.conf:2: Gateway=127.0.0.1 is a loopback address, not a usable "
                              "next hop"});
        }
}

namespace {

// A scratch directory, removed with everything in it when the test ends.
class TempDir {
public:
        TempDir() {
                std::random_device rd;
                const auto base = fs::temp_directory_path();
                for (;;) {
                        path_ = base / ("natd-config-test-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(rd()));
                        if (fs::create_directory(path_))
                                break;
                }
        }
        ~TempDir() {
                std::error_code ec;
                // Restore permissions a test took away, or removal fails.
                for (const auto& e : fs::recursive_directory_iterator(path_, ec))
                        fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
                fs::remove_all(path_, ec);
        }
        TempDir(const TempDir&) = delete;
        TempDir& operator=(const TempDir&) = delete;

        [[nodiscard]] const fs::path& path() const { return path_; }

        void write(const fs::path& relative, const std::string& text) const {
                const auto p = path_ / relative;
                fs::create_directories(p.parent_path());
                std::ofstream out(p, std::ios::binary);
                out << text;
                REQUIRE(out.good());
        }

private:
        fs::path path_;
};

}  // namespace

TEST_CASE("load_config reads the main file and sorted drop-ins", "[config]") {
        const TempDir tmp;
        const ConfigLocation where{tmp.path() / "etc/natd/natd.conf", false};
        CHECK(where.dropin_dir() == tmp.path() / "etc/natd/natd.conf.d");

        SECTION("nothing there: the defaults") {
                const auto load = load_config(where);
                CHECK(load.ok());
                CHECK(load.config == Config{});
        }
        SECTION("required but missing") {
                const auto load = load_config(ConfigLocation{where.main_file, true});
                CHECK(error_strings(load) ==
                      Strings{where.main_file.string() + ": No such file or directory"});
        }
        SECTION("main file and drop-ins, in lexical order") {
                tmp.write("etc/natd/natd.conf",
                          "[Interfaces]\nPublic=eth0\n[Routes]\nSubnets=10.0.1.0/24\n");
                // Lexical, not numeric: 10- sorts before 2-.
                tmp.write("etc/natd/natd.conf.d/2-b.conf",
                          "[Interfaces]\nPublic=eth2\n[Routes]\nSubnets=10.0.2.0/24\n");
                tmp.write("etc/natd/natd.conf.d/10-a.conf",
                          "[Interfaces]\nPublic=eth10\n[Routes]\nSubnets=10.0.10.0/24\n");
                tmp.write("etc/natd/natd.conf.d/z.conf", "[Routes]\nGateway=10.0.0.1\n");
                // Not drop-ins: other suffixes, hidden files, directories.
                tmp.write("etc/natd/natd.conf.d/z.conf.bak", "garbage\n");
                tmp.write("etc/natd/natd.conf.d/README", "garbage\n");
                tmp.write("etc/natd/natd.conf.d/.hidden.conf", "garbage\n");
                tmp.write("etc/natd/natd.conf.d/sub.conf/x.conf", "garbage\n");
                const auto load = load_config(where);
                CAPTURE(error_strings(load));
                REQUIRE(load.ok());
                CHECK(load.config.public_selector.str() == "eth2");
                CHECK(subnet_strings(load.config) ==
                      Strings{"10.0.1.0/24", "10.0.10.0/24", "10.0.2.0/24"});
                CHECK(load.config.gateway->str() == "10.0.0.1");
        }
        SECTION("drop-ins without a main file") {
                tmp.write("etc/natd/natd.conf.d/a.conf", "[Routes]\nSubnets=10.0.1.0/24\n");
                const auto load = load_config(ConfigLocation{where.main_file, false});
                REQUIRE(load.ok());
                CHECK(subnet_strings(load.config) == Strings{"10.0.1.0/24"});
        }
        SECTION("errors name the file by its path") {
                tmp.write("etc/natd/natd.conf", "[Routes]\nSubnets=10.0.0.0/16\n");
                tmp.write("etc/natd/natd.conf.d/50-x.conf", "[Routes]\n\nSubnets=10.0.1.0/24\n");
                const auto main_name = where.main_file.string();
                const auto dropin = (where.dropin_dir() / "50-x.conf").string();
                CHECK(error_strings(load_config(where)) ==
                      Strings{dropin + ":3: subnets 10.0.0.0/16 (" + main_name +
                              ":2) and 10.0.1.0/24 overlap; list each network once"});
        }
        SECTION("a directory where the main file should be") {
                fs::create_directories(where.main_file);
                CHECK(error_strings(load_config(where)) ==
                      Strings{where.main_file.string() + ": Is a directory"});
        }
        SECTION("a dangling drop-in symlink") {
                tmp.write("etc/natd/natd.conf", "[Interfaces]\nPublic=eth0\n");
                fs::create_directories(where.dropin_dir());
                fs::create_symlink(tmp.path() / "nowhere", where.dropin_dir() / "x.conf");
                const auto load = load_config(where);
                CHECK(error_strings(load) == Strings{(where.dropin_dir() / "x.conf").string() +
                                                     ": No such file or directory"});
                // The readable files still count.
                CHECK(load.config.public_selector.str() == "eth0");
        }
        SECTION("a file where the drop-in directory should be") {
                tmp.write("etc/natd/natd.conf.d", "");
                CHECK(error_strings(load_config(where)) ==
                      Strings{where.dropin_dir().string() + ": Not a directory"});
        }
        SECTION("unreadable files") {
                // root reads anything: nothing to test there.
                if (::geteuid() != 0) {
                        tmp.write("etc/natd/natd.conf", "[Interfaces]\n");
                        tmp.write("etc/natd/natd.conf.d/a.conf", "[Interfaces]\n");
                        fs::permissions(where.main_file, fs::perms::none);
                        fs::permissions(where.dropin_dir() / "a.conf", fs::perms::none);
                        CHECK(error_strings(load_config(where)) ==
                              Strings{where.main_file.string() + ": Permission denied",
                                      (where.dropin_dir() / "a.conf").string() +
                                              ": Permission denied"});
                }
        }
}

TEST_CASE("load_config never blocks and reports every entry it cannot read", "[config]") {
        const TempDir tmp;
        const ConfigLocation where{tmp.path() / "etc/natd/natd.conf", false};
        const auto dropin = [&](const char* name) { return where.dropin_dir() / name; };
        const natd::test::BlockingGuard guard;

        SECTION("a FIFO as the main file") {
                fs::create_directories(where.main_file.parent_path());
                REQUIRE(::mkfifo(where.main_file.c_str(), 0600) == 0);
                CHECK(error_strings(load_config(where)) ==
                      Strings{where.main_file.string() + ": not a regular file (FIFO)"});
        }
        SECTION("a FIFO, a symlink loop and a dangling symlink among the drop-ins") {
                tmp.write("etc/natd/natd.conf.d/10-good.conf", "[Interfaces]\nPublic=eth0\n");
                REQUIRE(::mkfifo(dropin("20-fifo.conf").c_str(), 0600) == 0);
                fs::create_symlink("30-loop.conf", dropin("30-loop.conf"));
                fs::create_symlink("nowhere.conf", dropin("40-dangling.conf"));
                const auto load = load_config(where);
                CHECK(error_strings(load) ==
                      Strings{dropin("20-fifo.conf").string() + ": not a regular file (FIFO)",
                              dropin("30-loop.conf").string() +
                                      ": Too many levels of symbolic links",
                              dropin("40-dangling.conf").string() + ": No such file or directory"});
                // The readable files still count.
                CHECK(load.config.public_selector.str() == "eth0");
        }
        SECTION("a dangling symlink as the main file is not a missing file") {
                fs::create_directories(where.main_file.parent_path());
                fs::create_symlink("nowhere.conf", where.main_file);
                CHECK(error_strings(load_config(where)) ==
                      Strings{where.main_file.string() + ": No such file or directory"});
        }
        SECTION("symlinks to files are followed, symlinks to directories skipped") {
                tmp.write("elsewhere/vpc.conf", "[Routes]\nSubnets=10.0.1.0/24\n");
                fs::create_directories(where.dropin_dir());
                fs::create_symlink(tmp.path() / "elsewhere/vpc.conf", dropin("10-vpc.conf"));
                fs::create_symlink(tmp.path() / "elsewhere", dropin("20-dir.conf"));
                fs::create_directories(where.main_file.parent_path());
                fs::create_symlink(tmp.path() / "elsewhere/vpc.conf", where.main_file);
                const auto load = load_config(where);
                CAPTURE(error_strings(load));
                REQUIRE(load.ok());
                CHECK(subnet_strings(load.config) == Strings{"10.0.1.0/24"});
                CHECK(load.files ==
                      Strings{where.main_file.string(), dropin("10-vpc.conf").string()});
        }
        SECTION("a file larger than natd reads") {
                tmp.write("etc/natd/natd.conf",
                          "[Routes]\n" + std::string(natd::kConfigFileMaxSize, '#') + "\n");
                CHECK(error_strings(load_config(where)) ==
                      Strings{where.main_file.string() + ": too large: more than 1 MiB"});
        }
        SECTION("an unreadable drop-in") {
                // root reads anything: nothing to test there.
                if (::geteuid() != 0) {
                        tmp.write("etc/natd/natd.conf.d/a.conf", "[Interfaces]\n");
                        fs::permissions(dropin("a.conf"), fs::perms::none);
                        CHECK(error_strings(load_config(where)) ==
                              Strings{dropin("a.conf").string() + ": Permission denied"});
                }
        }
}

TEST_CASE("every key's value has an origin", "[config]") {
        const auto load = parse_config({
                {"a.conf", "[Interfaces]\nPublic=eth0\nWaitTimeoutSec=5s\n"
                           "[Routes]\nSubnets=10.0.1.0/24 10.0.2.0/24\nGateway=10.0.0.1\n"},
                {"b.conf", "[Routes]\n\nSubnets=10.0.3.0/24 10.0.1.0/24\nGateway=\n"
                           "[Interfaces]\nWaitTimeoutSec=x\n"},
        });
        CHECK(load.files == Strings{"a.conf", "b.conf"});
        const auto& schema = natd::config_schema();
        REQUIRE(load.origins.size() == schema.size());
        const auto origin = [&](std::string_view name) {
                for (size_t i = 0; i < schema.size(); ++i)
                        if (schema[i].name == name)
                                return load.origins[i];
                FAIL("no key " << name);
                return natd::KeyOrigins{};
        };
        CHECK(origin("Public").value.str() == "a.conf:2");
        CHECK(origin("Private").value.str() == "default");
        CHECK(origin("Private").value.is_default());
        // A rejected assignment does not move the origin.
        CHECK(origin("WaitTimeoutSec").value.str() == "a.conf:3");
        // An empty assignment is where the default came back from.
        CHECK(origin("Gateway").value.str() == "b.conf:4");
        CHECK_FALSE(load.config.gateway.has_value());
        // Lists: one per item; a duplicate keeps its first origin.
        std::vector<std::string> items;
        for (const auto& o : origin("Subnets").items)
                items.push_back(o.str());
        CHECK(subnet_strings(load.config) == Strings{"10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"});
        CHECK(items == Strings{"a.conf:5", "a.conf:5", "b.conf:3"});
        CHECK(origin("Subnets").value.is_default());
}

TEST_CASE("Private=none: single-ENI mode needs SourceCIDRs= and takes no routes", "[config]") {
        const auto single = parse_ok({{"a.conf", "[Interfaces]\nPrivate=none\n"
                                                 "[NAT]\nSourceCIDRs=10.0.0.0/16\n"}});
        CHECK_FALSE(single.private_selector);
        CHECK(single.source_cidrs == std::vector{Ipv4Cidr::parse("10.0.0.0/16").value()});
        // An empty assignment restores the default ENI, as for every scalar.
        const auto back = parse_ok({{"a.conf", "[Interfaces]\nPrivate=none\nPrivate=\n"}});
        REQUIRE(back.private_selector);
        CHECK(back.private_selector->str() == "device-number-1");

        // With IMDS (the default: auto) SourceCIDRs= defaults to the VPC's
        // CIDR blocks; without it there is nothing to default to.
        CHECK(parse_ok({{"a.conf", "[Interfaces]\nPrivate=none\n"}}).source_cidrs.empty());
        CHECK(errors_of({{"a.conf", "[Interfaces]\nPrivate=none\n[Discovery]\nIMDS=no\n"}}) ==
              Strings{"a.conf:2: Private=none (single-ENI mode) with IMDS=no needs [NAT] "
                      "SourceCIDRs=: the networks the NAT relays for, e.g. the VPC's CIDR "
                      "blocks"});
        CHECK(errors_of({{"a.conf", "[Interfaces]\nPrivate=none\n[NAT]\nSourceCIDRs=10.0.0.0/16\n"},
                         {"b.conf", "[Routes]\nSubnets=10.0.2.0/24\nGateway=10.0.1.1\n"}}) ==
              Strings{"b.conf:2: Subnets=10.0.2.0/24 with Private=none (a.conf:2): a single-ENI "
                      "NAT has no return routes (the VPC routes to the private subnets); list "
                      "them in [NAT] SourceCIDRs=",
                      "b.conf:3: Gateway= with Private=none (a.conf:2): a single-ENI NAT has no "
                      "return routes"});
}

TEST_CASE("[Discovery] IMDSEndpoint= takes a literal address over plain HTTP", "[config]") {
        CHECK(Config{}.imds_endpoint == "http://169.254.169.254");
        CHECK(Config{}.imds == ImdsMode::Auto);
        for (const char* good : {"http://169.254.169.254", "http://[fd00:ec2::254]",
                                 "http://127.0.0.1:8080", "http://[::1]:1338"}) {
                CAPTURE(good);
                CHECK(parse_ok(
                              {{"a.conf", std::string("[Discovery]\nIMDSEndpoint=") + good + "\n"}})
                              .imds_endpoint == good);
        }
        // The trailing '/' is dropped: natd appends /latest/...
        CHECK(parse_ok({{"a.conf", "[Discovery]\nIMDSEndpoint=http://10.1.2.3/\n"}})
                      .imds_endpoint == "http://10.1.2.3");
        CHECK(parse_ok({{"a.conf", "[Discovery]\nIMDS=no\n"}}).imds == ImdsMode::No);
        for (const char* bad :
             {"https://169.254.169.254", "169.254.169.254", "http://metadata.internal",
              "http://[fd00:ec2::254", "http://[10.0.0.1]", "http://1.2.3.4:0",
              "http://1.2.3.4:99999", "http://1.2.3.4/latest", "http://[::1]x"}) {
                CAPTURE(bad);
                const auto errors = errors_of(
                        {{"a.conf", std::string("[Discovery]\nIMDSEndpoint=") + bad + "\n"}});
                REQUIRE(errors.size() == 1);
                CHECK(errors[0].starts_with("a.conf:2: invalid URL '"));
        }
}

TEST_CASE("[HighAvailability]: a pair needs its peer, floating address and route tables",
          "[config]") {
        const Config defaults;
        CHECK_FALSE(defaults.ha_peer);
        CHECK(defaults.ha_priority == 100);
        CHECK(defaults.ha_advertisement_interval_msec == 1000);
        CHECK_FALSE(defaults.ha_preempt);
        CHECK(defaults.ha_virtual_router_id == 51);
        CHECK(defaults.ec2_endpoint.empty());

        const std::string pair = "[HighAvailability]\nPeer=10.0.1.11\nFloatingAddress=10.0.0.20\n"
                                 "RouteTables=rtb-0a1b2c3d rtb-0123456789abcdef0\n";
        const Config c = parse_ok(
                {{"a.conf", pair + "Priority=150\nAdvertisementIntervalSec=200ms\nPreempt=yes\n"
                                   "VirtualRouterID=7\nSyncInterface=ens7\n"
                                   "EC2Endpoint=http://10.0.9.2:8080/\n[Health]\n"
                                   "Listen=0.0.0.0:8008\n"}});
        CHECK(c.ha_peer == Ipv4Address::parse("10.0.1.11").value());
        CHECK(c.ha_floating_address == Ipv4Address::parse("10.0.0.20").value());
        CHECK(c.ha_route_tables ==
              std::vector<std::string>{"rtb-0a1b2c3d", "rtb-0123456789abcdef0"});
        CHECK(c.ha_priority == 150);
        CHECK(c.ha_advertisement_interval_msec == 200);
        CHECK(c.ha_preempt);
        CHECK(c.ha_virtual_router_id == 7);
        REQUIRE(c.ha_sync_interface);
        CHECK(c.ha_sync_interface->str() == "ens7");
        CHECK(c.ec2_endpoint == "http://10.0.9.2:8080");
        REQUIRE(c.health_listen);
        CHECK(c.health_listen->port == 8008);

        CHECK(errors_of({{"a.conf", "[HighAvailability]\nPeer=10.0.1.11\n"}}) ==
              std::vector<std::string>{
                      "a.conf:2: [HighAvailability] Peer= needs FloatingAddress=: the secondary "
                      "private address the active NAT holds",
                      "a.conf:2: [HighAvailability] Peer= needs RouteTables=: the private route "
                      "tables whose 0.0.0.0/0 the active NAT owns"});
        CHECK(errors_of({{"a.conf", "[HighAvailability]\nFloatingAddress=10.0.0.20\n"
                                    "RouteTables=rtb-0a1b2c3d\n"}}) ==
              std::vector<std::string>{
                      "a.conf:2: [HighAvailability] FloatingAddress= without Peer=: there is no "
                      "pair",
                      "a.conf:3: [HighAvailability] RouteTables= without Peer=: there is no pair"});
        CHECK(errors_of({{"a.conf", "[NAT]\nAddresses=10.0.0.30\n" + pair}}) ==
              std::vector<std::string>{"a.conf:2: [NAT] Addresses= with [HighAvailability] "
                                       "Peer= (a.conf:4): the pair SNATs to FloatingAddress="});
        CHECK(errors_of({{"a.conf",
                          "[Interfaces]\nPrivate=none\n[NAT]\nSourceCIDRs=10.0.0.0/16\n" + pair}})
                      .size() == 1);

        for (const char* bad :
             {"Priority=0", "Priority=255", "RouteTables=rtb-123", "RouteTables=rtb-0A1B2C3D",
              "RouteTables=eni-0a1b2c3d", "AdvertisementIntervalSec=5ms",
              "AdvertisementIntervalSec=15ms", "AdvertisementIntervalSec=41s",
              "AdvertisementIntervalSec=infinity", "Preempt=maybe", "VirtualRouterID=256",
              "EC2Endpoint=ftp://x", "EC2Endpoint=https://ec2.amazonaws.com/path",
              "EC2Endpoint=https://user@host", "EC2Endpoint=https://host:0"}) {
                CAPTURE(bad);
                const auto errors = errors_of({{"a.conf", pair + bad + "\n"}});
                REQUIRE(errors.size() == 1);
                CHECK(errors[0].starts_with("a.conf:5: invalid "));
        }
        for (const char* yes : {"yes", "true", "on", "1"})
                CHECK(parse_ok({{"a.conf", pair + "Preempt=" + yes + "\n"}}).ha_preempt);
        for (const char* no : {"no", "false", "off", "0"})
                CHECK_FALSE(parse_ok({{"a.conf", pair + "Preempt=" + no + "\n"}}).ha_preempt);
}

// --- hostile input (tests/hostile/ has the files; these pin the behaviour) ---

namespace {

// Every overlapping pair (i < j) by comparing all of them: the reference
// overlapping_subnets() must agree with.
std::vector<std::pair<size_t, size_t>> overlapping_pairs_slowly(const std::vector<Ipv4Cidr>& s) {
        std::vector<std::pair<size_t, size_t>> pairs;
        const Ipv4Cidr everything{};
        for (size_t j = 0; j < s.size(); ++j)
                for (size_t i = 0; i < j; ++i)
                        if (s[i] != everything && s[j] != everything && s[i].overlaps(s[j]))
                                pairs.emplace_back(i, j);
        return pairs;
}

std::vector<Ipv4Cidr> cidrs(const Strings& texts) {
        std::vector<Ipv4Cidr> v;
        for (const auto& t : texts)
                v.push_back(Ipv4Cidr::parse(t).value());
        return v;
}

using Pairs = std::vector<std::pair<size_t, size_t>>;

}  // namespace

TEST_CASE("overlapping_subnets: sort and sweep finds exactly the overlapping pairs", "[config]") {
        using natd::overlapping_subnets;
        // Overlaps found, in the order (later, earlier).
        CHECK(overlapping_subnets(cidrs({"10.0.1.0/24", "10.0.0.0/16"})) == Pairs{{0, 1}});
        CHECK(overlapping_subnets(cidrs({"10.0.0.0/16", "10.0.1.0/24"})) == Pairs{{0, 1}});
        // Adjacent blocks touch but do not overlap, whatever their order.
        CHECK(overlapping_subnets(cidrs({"10.0.1.0/24", "10.0.0.0/24", "10.0.2.0/23", "10.0.4.0/22",
                                         "9.255.255.255/32"}))
                      .empty());
        // Nested three deep: every pair, not only neighbours.
        CHECK(overlapping_subnets(cidrs({"10.1.2.0/24", "10.0.0.0/8", "10.1.0.0/16"})) ==
              Pairs{{0, 1}, {0, 2}, {1, 2}});
        // A block beside a nest: only the nest's pairs.
        CHECK(overlapping_subnets(cidrs({"10.0.0.0/8", "11.0.0.0/8", "10.255.255.255/32",
                                         "11.0.0.0/32"})) == Pairs{{0, 2}, {1, 3}});
        // Identical blocks contain each other (parse_config drops such
        // duplicates before; the function itself still sees them).
        CHECK(overlapping_subnets(cidrs({"10.0.1.0/24", "10.0.1.0/24"})) == Pairs{{0, 1}});
        // The same network with different lengths: the /16 contains the /24.
        CHECK(overlapping_subnets(cidrs({"10.0.0.0/24", "10.0.0.0/16"})) == Pairs{{0, 1}});
        // /0 has an error of its own and is left out.
        CHECK(overlapping_subnets(cidrs({"0.0.0.0/0", "10.0.0.0/8"})).empty());
        CHECK(overlapping_subnets({}).empty());

        // Random blocks in a small range, so that many overlap: the same
        // pairs as comparing every pair.
        std::mt19937 random(20261204);
        for (int round = 0; round < 50; ++round) {
                std::vector<Ipv4Cidr> subnets;
                const auto n = std::uniform_int_distribution<int>(0, 120)(random);
                for (int k = 0; k < n; ++k) {
                        const auto len = std::uniform_int_distribution<unsigned>(16, 30)(random);
                        const auto host =
                                std::uniform_int_distribution<uint32_t>(0, 0xffff)(random);
                        subnets.push_back(
                                Ipv4Cidr{Ipv4Address{(10U << 24) | (host << 8)}, len}.network());
                }
                CAPTURE(round, n);
                CHECK(overlapping_subnets(subnets) == overlapping_pairs_slowly(subnets));
        }
}

TEST_CASE("100,000 subnets: duplicates dropped, the one overlap named", "[config]") {
        // 10.0.0.0/28, 10.0.0.16/28, ...: 100,000 adjacent blocks, one a line,
        // each of them twice (the second time in a second file), then one /29
        // inside block 20480 (10.5.0.0/28).
        std::string first = "[Routes]\n";
        std::string second = "[Routes]\n";
        for (uint32_t i = 0; i < 100000; ++i) {
                const std::string line =
                        "Subnets=" + Ipv4Cidr{Ipv4Address{(10U << 24) + i * 16}, 28}.str() + "\n";
                first += line;
                second += line;
        }
        second += "Subnets=10.5.0.8/29\n";
        const auto load = parse_config({{"a.conf", first}, {"b.conf", second}});
        REQUIRE(load.config.subnets.size() == 100001);
        CHECK(load.config.subnets[20480].str() == "10.5.0.0/28");
        CHECK(load.config.subnets[99999].str() == "10.24.105.240/28");
        // The origins follow the items kept: the first file's lines.
        const auto& at = load.origins[natd::config_key_index<&Config::subnets>()].items;
        REQUIRE(at.size() == 100001);
        CHECK(at[20480].str() == "a.conf:20482");
        CHECK(at[100000].str() == "b.conf:100002");
        CHECK(error_strings(load) ==
              Strings{"b.conf:100002: subnets 10.5.0.0/28 (a.conf:20482) and 10.5.0.8/29 "
                      "overlap; list each network once"});
}

TEST_CASE("a NUL byte is an error at its line; the lines after it are read", "[config]") {
        using namespace std::string_literals;
        CHECK(errors_of(
                      {{"f.conf", "[Interfaces]\nPublic=ens5\0ens7\nPrivate=ens6\nBogus=1\n"s}}) ==
              Strings{"f.conf:2: NUL byte at column 12: a configuration file is text; line not "
                      "read",
                      "f.conf:4: unknown key 'Bogus' in section [Interfaces]"});
        // In a comment, and as the whole file.
        CHECK(errors_of({{"f.conf", "# x\0\n"s}}) ==
              Strings{"f.conf:1: NUL byte at column 4: a configuration file is text; line not "
                      "read"});
        CHECK(errors_of({{"f.conf", std::string(16, '\0')}}) ==
              Strings{"f.conf:1: NUL byte at column 1: a configuration file is text; line not "
                      "read"});
}

TEST_CASE("a line ending in a backslash is refused, not taken as part of the value", "[config]") {
        CHECK(errors_of({{"f.conf", "[Interfaces]\nPublic=ens5\\"}}) ==
              Strings{"f.conf:2: line ends in '\\': continuation lines are not supported, "
                      "write the assignment on one line"});
        CHECK(errors_of({{"f.conf", "[Routes]\nSubnets=10.0.2.0/24 \\\n  10.0.3.0/24\n"}}) ==
              Strings{"f.conf:2: line ends in '\\': continuation lines are not supported, "
                      "write the assignment on one line",
                      "f.conf:3: missing '=' in line '10.0.3.0/24'"});
        // A comment may end in one.
        CHECK(errors_of({{"f.conf", "# see C:\\\n"}}).empty());
}

TEST_CASE("CRLF, a BOM, trailing blanks, repeated sections are normalised", "[config]") {
        const Config expected = [] {
                Config c;
                c.public_selector = Selector::parse("ens5").value();
                c.private_selector = Selector::parse("ens6").value();
                c.subnets = {Ipv4Cidr::parse("10.0.2.0/24").value(),
                             Ipv4Cidr::parse("10.0.3.0/24").value()};
                return c;
        }();
        for (const std::string text : {
                     "[Interfaces]\r\nPublic=ens5\r\nPrivate=ens6\r\n[Routes]\r\n"
                     "Subnets=10.0.2.0/24 10.0.3.0/24\r\n",
                     "\xEF\xBB\xBF[Interfaces]\nPublic=ens5\nPrivate=ens6\n[Routes]\n"
                     "Subnets=10.0.2.0/24 10.0.3.0/24",
                     "[Interfaces] \t\nPublic=ens5 \t \n\tPrivate = ens6\t\n[Routes]\n"
                     "Subnets=10.0.2.0/24\t10.0.3.0/24 \n",
                     "[Interfaces]\nPublic=ens5\n[Routes]\nSubnets=10.0.2.0/24\n"
                     "[Interfaces]\nPrivate=ens6\n[Routes]\nSubnets=10.0.3.0/24\n",
             }) {
                CAPTURE(text);
                CHECK(parse_ok({{"f.conf", text}}) == expected);
        }
}

TEST_CASE("what an error quotes is printable and bounded", "[config]") {
        using namespace std::string_literals;
        // Control characters, DEL, non-UTF-8 and invisible UTF-8 as \xNN.
        CHECK(ConfigError{"f.conf", 2, "a\x1b[31mb\x7f\xff\xc2\xa0\tc\rd\0e"s}.str() ==
              "f.conf:2: a\\x1b[31mb\\x7f\\xff\\xc2\\xa0\\x09c\\x0dd\\x00e");
        CHECK(ConfigError{"natd.conf.d/a\nb.conf", 0, "x"}.str() == "natd.conf.d/a\\x0ab.conf: x");
        CHECK(errors_of({{"f.conf", "[Interfaces]\nPublic=ens\xff"
                                    "5\n"}}) ==
              Strings{"f.conf:2: invalid selector 'ens\\xff5' in Public=: interface names "
                      "must be printable ASCII"});
        CHECK(errors_of({{"f.conf", "\xEF\xBB\xBF\xEF\xBB\xBF[Interfaces]\n"}}) ==
              Strings{"f.conf:1: missing '=' in line '\\xef\\xbb\\xbf[Interfaces]'"});

        // A 1 MB value: the message keeps its start and its reason.
        const auto errors =
                errors_of({{"f.conf", "[Interfaces]\nPublic=" + std::string(1000000, 'a') + "\n"}});
        REQUIRE(errors.size() == 1);
        CHECK(errors[0].size() < 1100);
        CHECK(errors[0].starts_with("f.conf:2: invalid selector 'aaaa"));
        CHECK(errors[0].find("[... 999") != std::string::npos);
        CHECK(errors[0].ends_with("aaaa' in Public=: interface names and altnames are at most 127 "
                                  "characters"));
        // Up to 1024 bytes a message is whole.
        const std::string whole(1024, 'm');
        CHECK(ConfigError{"f", 1, whole}.str() == "f:1: " + whole);
}
