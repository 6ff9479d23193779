#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "selector.hpp"

using natd::Link;
using natd::MacAddress;
using natd::resolve;
using natd::Selector;
using Match = natd::Selector::Match;

namespace {

Selector sel(const std::string& text) {
        auto r = Selector::parse(text);
        REQUIRE(r.ok());
        return r.value();
}

Link link(int ifindex, std::string name, std::vector<std::string> altnames,
          const std::string& mac = "") {
        Link l;
        l.ifindex = ifindex;
        l.name = std::move(name);
        l.altnames = std::move(altnames);
        if (!mac.empty())
                l.mac = MacAddress::parse(mac).value();
        return l;
}

std::string names(const std::vector<const Link*>& links) {
        std::string s;
        for (const auto* l : links)
                s += (s.empty() ? "" : " ") + l->name;
        return s;
}

}  // namespace

TEST_CASE("Selector::parse accepts names, altnames and MACs", "[selector]") {
        struct Row {
                std::string text;
                bool is_mac;
                std::string str;
        };
        const std::string long_name(127, 'x');
        const std::vector<Row> rows{
                {"eth0", false, "eth0"},
                {"ens5", false, "ens5"},
                {"device-number-0", false, "device-number-0"},
                {"device-number-1.0", false, "device-number-1.0"},
                {"eni-0123456789abcdef0", false, "eni-0123456789abcdef0"},
                {"a", false, "a"},
                {"...", false, "..."},
                {".hidden", false, ".hidden"},
                {"we!rd_but-ok@", false, "we!rd_but-ok@"},
                {long_name, false, long_name},
                {"0a:1b:2c:3d:4e:5f", true, "0a:1b:2c:3d:4e:5f"},
                {"0A:1B:2C:3D:4E:5F", true, "0a:1b:2c:3d:4e:5f"},
        };
        for (const auto& row : rows) {
                CAPTURE(row.text);
                auto r = Selector::parse(row.text);
                REQUIRE(r.ok());
                CHECK(r.value().is_mac() == row.is_mac);
                CHECK(r.value().str() == row.str);
        }
}

TEST_CASE("Selector::parse rejects what cannot name an interface", "[selector]") {
        struct Row {
                std::string text;
                std::string error;
        };
        const std::string too_long(128, 'x');
        const std::vector<Row> rows{
                {"", "empty selector: expected an interface name, altname or MAC address"},
                {"zz:1b:2c:3d:4e:5f", "invalid MAC address 'zz:1b:2c:3d:4e:5f': expected six "
                                      "colon-separated pairs of hex digits"},
                {"eth0:1", "invalid MAC address 'eth0:1': expected six colon-separated pairs "
                           "of hex digits"},
                {too_long, "invalid selector '" + too_long +
                                   "': interface names and altnames are at most 127 characters"},
                {".", "invalid selector '.': '.' and '..' are not interface names"},
                {"..", "invalid selector '..': '.' and '..' are not interface names"},
                {"eth 0", "invalid selector 'eth 0': interface names cannot contain whitespace"},
                {" eth0", "invalid selector ' eth0': interface names cannot contain whitespace"},
                {"eth0\t", "invalid selector 'eth0\t': interface names cannot contain whitespace"},
                {"eth0\n", "invalid selector 'eth0\n': interface names cannot contain whitespace"},
                {"eth/0", "invalid selector 'eth/0': interface names cannot contain '/'"},
                {"\"ens5\"", "invalid selector '\"ens5\"': quotes are not part of an interface "
                             "name; write it without them"},
                {"'ens5'", "invalid selector ''ens5'': quotes are not part of an interface name; "
                           "write it without them"},
                {std::string("eth\x01", 4),
                 "invalid selector 'eth\x01': interface names must be printable ASCII"},
                {"eth\x7f", "invalid selector 'eth\x7f': interface names must be printable ASCII"},
                {"\xc3\xa9th0",
                 "invalid selector '\xc3\xa9th0': interface names must be printable ASCII"},
        };
        for (const auto& row : rows) {
                CAPTURE(row.text);
                auto r = Selector::parse(row.text);
                REQUIRE_FALSE(r.ok());
                CHECK(r.error() == row.error);
        }
}

TEST_CASE("Selector equality compares the normalized form", "[selector]") {
        CHECK(sel("0A:1B:2C:3D:4E:5F") == sel("0a:1b:2c:3d:4e:5f"));
        CHECK_FALSE(sel("eth0") == sel("eth1"));
        CHECK_FALSE(sel("device-number-1") == sel("device-number-1.0"));
}

TEST_CASE("Selector::match", "[selector]") {
        const Link eth1 = link(3, "ens6", {"device-number-1.0", "eni-0123456789abcdef0"},
                               "0a:1b:2c:3d:4e:5f");
        const Link old_style = link(4, "ens7", {"device-number-2"}, "0a:1b:2c:3d:4e:60");
        const Link no_mac = link(5, "tun0", {});
        struct Row {
                std::string selector;
                const Link* link;
                Match match;
        };
        const std::vector<Row> rows{
                {"ens6", &eth1, Match::Exact},
                {"device-number-1.0", &eth1, Match::Exact},
                {"eni-0123456789abcdef0", &eth1, Match::Exact},  // 21 characters: altname only
                {"0a:1b:2c:3d:4e:5f", &eth1, Match::Exact},
                {"0A:1B:2C:3D:4E:5F", &eth1, Match::Exact},
                {"device-number-1", &eth1, Match::NetworkCard},
                {"device-number-1.1", &eth1, Match::None},
                {"device-number-0", &eth1, Match::None},
                {"device-number-10", &eth1, Match::None},
                {"device-number-", &eth1, Match::None},
                {"ens", &eth1, Match::None},
                {"ENS6", &eth1, Match::None},
                {"eni-0123456789abcdef", &eth1, Match::None},
                {"0a:1b:2c:3d:4e:60", &eth1, Match::None},
                {"device-number-2", &old_style, Match::Exact},
                {"device-number-2.0", &old_style, Match::None},
                {"ens7", &old_style, Match::Exact},
                {"0a:1b:2c:3d:4e:5f", &no_mac, Match::None},
                {"00:00:00:00:00:00", &no_mac, Match::None},
                {"tun0", &no_mac, Match::Exact},
        };
        for (const auto& row : rows) {
                CAPTURE(row.selector, row.link->name);
                CHECK(sel(row.selector).match(*row.link) == row.match);
        }
}

TEST_CASE("device-number-N matches only device-number-N.<digits>", "[selector]") {
        struct Row {
                std::string altname;
                Match match;
        };
        const std::vector<Row> rows{
                {"device-number-1", Match::Exact},
                {"device-number-1.0", Match::NetworkCard},
                {"device-number-1.1", Match::NetworkCard},
                {"device-number-1.15", Match::NetworkCard},
                {"device-number-10.0", Match::None},
                {"device-number-10", Match::None},
                {"device-number-1.", Match::None},
                {"device-number-1.x", Match::None},
                {"device-number-1.0x", Match::None},
                {"device-number-1.0.0", Match::None},
                {"device-number-1-0", Match::None},
                {"device-number-11.0", Match::None},
                {"xdevice-number-1.0", Match::None},
        };
        const auto s = sel("device-number-1");
        for (const auto& row : rows) {
                CAPTURE(row.altname);
                CHECK(s.match(link(2, "ens5", {row.altname})) == row.match);
        }
        // The network-card rule needs a selector of the form device-number-<digits>.
        CHECK(sel("device-number-x").match(link(2, "ens5", {"device-number-x.0"})) == Match::None);
        CHECK(sel("eth").match(link(2, "ens5", {"eth.0"})) == Match::None);
        CHECK(sel("device-number-1.0").match(link(2, "ens5", {"device-number-1.0.0"})) ==
              Match::None);
}

TEST_CASE("resolve picks the single best match", "[selector]") {
        const std::vector<Link> links{
                link(1, "lo", {}),
                link(2, "ens5", {"device-number-0.0", "eni-00000000000000000"},
                     "02:00:00:00:00:01"),
                link(3, "ens6", {"device-number-1.0", "eni-11111111111111111"},
                     "02:00:00:00:00:02"),
                link(4, "ens7", {"device-number-1.1", "eni-22222222222222222"},
                     "02:00:00:00:00:03"),
                link(5, "ens8", {"device-number-2"}, "02:00:00:00:00:04"),
                link(6, "ens9", {"device-number-2.1"}, "02:00:00:00:00:05"),
                link(7, "ens10", {"device-number-3.0"}, "02:00:00:00:00:06"),
        };
        struct Row {
                std::string selector;
                std::string link;       // "" when none or ambiguous
                std::string ambiguous;  // names of the tied links
        };
        const std::vector<Row> rows{
                {"ens5", "ens5", ""},
                {"device-number-0", "ens5", ""},  // network-card match, unique
                {"device-number-0.0", "ens5", ""},
                {"eni-11111111111111111", "ens6", ""},
                {"02:00:00:00:00:03", "ens7", ""},
                {"02:00:00:00:00:ff", "", ""},
                // device-number-1.0 and device-number-1.1 tie: never guess.
                {"device-number-1", "", "ens6 ens7"},
                {"device-number-1.1", "ens7", ""},
                // The exact altname beats device-number-2.1.
                {"device-number-2", "ens8", ""},
                {"device-number-3", "ens10", ""},
                {"device-number-4", "", ""},
                {"eth0", "", ""},
        };
        for (const auto& row : rows) {
                CAPTURE(row.selector);
                const auto r = resolve(sel(row.selector), links);
                CHECK((r.link ? r.link->name : "") == row.link);
                CHECK(names(r.ambiguous) == row.ambiguous);
        }
}

TEST_CASE("resolve reports ties among exact matches too", "[selector]") {
        // Two links with the same MAC (e.g. a bond and its slave).
        const std::vector<Link> links{
                link(2, "ens5", {}, "02:00:00:00:00:01"),
                link(3, "bond0", {}, "02:00:00:00:00:01"),
        };
        const auto r = resolve(sel("02:00:00:00:00:01"), links);
        CHECK(r.link == nullptr);
        CHECK(names(r.ambiguous) == "ens5 bond0");

        const auto none = resolve(sel("ens5"), {});
        CHECK(none.link == nullptr);
        CHECK(none.ambiguous.empty());
}
