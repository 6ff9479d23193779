// Reading EC2's XML answers: errors, <return>, assigned addresses and route
// tables (routes only from routeSet, whatever else is called <item>), and
// every kind of bad document as an error, never a crash.
#include <catch2/catch.hpp>

#include "ec2-response.hpp"

using Catch::Matchers::Contains;
using natd::Ec2Error;
using natd::Ec2Return;
using natd::Ec2Route;
using natd::Ec2RouteTable;
using natd::Ipv4Address;

namespace {

const std::string kNs = R"( xmlns="http://ec2.amazonaws.com/doc/2016-11-15/")";

const std::string kErrorBody =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not "
        "authorized to perform this operation.</Message></Error></Errors>"
        "<RequestID>abc-123</RequestID></Response>";

std::string replace_route(const std::string& inner) {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ReplaceRouteResponse" + kNs + ">" +
               inner + "</ReplaceRouteResponse>";
}

std::string describe(const std::string& tables) {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeRouteTablesResponse" + kNs +
               "><requestId>req-1</requestId><routeTableSet>" + tables +
               "</routeTableSet></DescribeRouteTablesResponse>";
}

// One route table as EC2 describes it: a route to an ENI, the local route,
// an association and a tag, the last two also made of <item>s.
const std::string kRouteTable =
        "<item><routeTableId>rtb-0123456789abcdef0</routeTableId><vpcId>vpc-11111111</vpcId>"
        "<routeSet>"
        "<item><destinationCidrBlock>0.0.0.0/0</destinationCidrBlock>"
        "<networkInterfaceId>eni-0aaaaaaaaaaaaaaaa</networkInterfaceId>"
        "<instanceId>i-0bbbbbbbbbbbbbbbb</instanceId><instanceOwnerId>123456789012"
        "</instanceOwnerId><origin>CreateRoute</origin><state>active</state></item>"
        "<item><destinationCidrBlock>10.0.0.0/16</destinationCidrBlock><gatewayId>local"
        "</gatewayId><origin>CreateRouteTable</origin><state>active</state></item>"
        "</routeSet>"
        "<associationSet><item><routeTableAssociationId>rtbassoc-22222222"
        "</routeTableAssociationId><routeTableId>rtb-0123456789abcdef0</routeTableId>"
        "<subnetId>subnet-33333333</subnetId><main>false</main><associationState><state>"
        "associated</state></associationState></item></associationSet>"
        "<propagatingVgwSet/><tagSet><item><key>Name</key><value>private</value></item>"
        "</tagSet><ownerId>123456789012</ownerId></item>";

}  // namespace

TEST_CASE("An EC2 error response", "[ec2]") {
        const auto error = natd::ec2_parse_error(kErrorBody);
        REQUIRE(error.ok());
        CHECK(error.value() == Ec2Error{"UnauthorizedOperation",
                                        "You are not authorized to perform this operation.",
                                        "abc-123"});

        // The first of several; no RequestID is no problem; entities decoded.
        const auto two = natd::ec2_parse_error(
                "<Response><Errors><Error><Code>InvalidRouteTableID.NotFound</Code><Message>"
                "The routeTable ID &apos;rtb-1&apos; does not exist</Message></Error><Error>"
                "<Code>Other</Code></Error></Errors></Response>");
        REQUIRE(two.ok());
        CHECK(two.value() == Ec2Error{"InvalidRouteTableID.NotFound",
                                      "The routeTable ID 'rtb-1' does not exist", ""});

        // The ErrorResponse shape of other AWS query APIs.
        const auto sts = natd::ec2_parse_error(
                "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
                "<Type>Sender</Type><Code>ExpiredToken</Code><Message>expired</Message>"
                "</Error><RequestId>r-9</RequestId></ErrorResponse>");
        REQUIRE(sts.ok());
        CHECK(sts.value() == Ec2Error{"ExpiredToken", "expired", "r-9"});
}

TEST_CASE("A bad EC2 error response is an error", "[ec2]") {
        auto fails = [](const std::string& xml, const char* says) {
                const auto error = natd::ec2_parse_error(xml);
                REQUIRE_FALSE(error.ok());
                CHECK_THAT(error.error(), Contains("EC2 error response") && Contains(says));
        };
        fails("<Response><Errors><Error><Message>m</Message></Error></Errors></Response>",
              "<Error> has no <Code>");
        fails("<Response><Errors><Error><Code> </Code></Error></Errors></Response>",
              "<Code> is empty");
        fails("<Response><Errors/></Response>", "<Errors> has no <Error>");
        fails("<Response><RequestID>x</RequestID></Response>", "<Response> has no <Errors>");
        fails("<html><body>502 Bad Gateway</body></html>", "the root element is <html>");
        fails("502 Bad Gateway", "not well-formed XML");
        fails(kErrorBody.substr(0, kErrorBody.size() - 5), "not well-formed XML");
        fails("", "empty");
}

TEST_CASE("<return>: true, false, or an error", "[ec2]") {
        const auto yes = natd::ec2_parse_return(
                "ReplaceRoute",
                replace_route("<requestId>59dbff89-35bd</requestId><return>true</return>"));
        REQUIRE(yes.ok());
        CHECK(yes.value() == Ec2Return{"59dbff89-35bd", true});

        const auto no = natd::ec2_parse_return(
                "ReplaceRoute", replace_route("<requestId>r</requestId><return>false</return>"));
        REQUIRE(no.ok());
        CHECK(no.value() == Ec2Return{"r", false});

        // Pretty-printed, without a namespace, UnassignPrivateIpAddresses.
        const auto unassign = natd::ec2_parse_return(
                "UnassignPrivateIpAddresses",
                "<UnassignPrivateIpAddressesResponse>\n  <requestId>u-1</requestId>\n"
                "  <return>\n    true\n  </return>\n</UnassignPrivateIpAddressesResponse>\n");
        REQUIRE(unassign.ok());
        CHECK(unassign.value() == Ec2Return{"u-1", true});

        auto fails = [](const std::string& action, const std::string& xml, const char* says) {
                const auto r = natd::ec2_parse_return(action, xml);
                REQUIRE_FALSE(r.ok());
                CHECK_THAT(r.error(), Contains("EC2 " + action + " response: ") && Contains(says));
        };
        fails("ReplaceRoute", replace_route("<requestId>r</requestId>"),
              "<ReplaceRouteResponse> has no <return>");
        fails("ReplaceRoute", replace_route("<return>yes</return>"),
              "<return> is 'yes', not true or false");
        fails("ReplaceRoute", replace_route("<return>true</return><return>false</return>"),
              "more than one <return>");
        // The answer to another request.
        fails("UnassignPrivateIpAddresses", replace_route("<return>true</return>"),
              "the root element is <ReplaceRouteResponse>, not "
              "<UnassignPrivateIpAddressesResponse>");
        // <return> not at the top does not count.
        fails("ReplaceRoute", replace_route("<x><return>true</return></x>"), "has no <return>");
        // An error document where an answer was expected says what EC2 refused.
        fails("ReplaceRoute", kErrorBody,
              "an error response: UnauthorizedOperation: You are not authorized");
        fails("ReplaceRoute", replace_route("<return>true</return>").substr(0, 60),
              "not well-formed XML");
        fails("ReplaceRoute", replace_route("<return>true</retur>"), "not well-formed XML");
        fails("ReplaceRoute", replace_route("<return>true</return>") + "<more/>",
              "not well-formed XML: junk after document element");
        fails("ReplaceRoute",
              "<ReplaceRouteResponse><p:return>true</p:return></ReplaceRouteResponse>",
              "not well-formed XML");  // an unbound prefix
}

TEST_CASE("AssignPrivateIpAddresses: the addresses EC2 assigned", "[ec2]") {
        const auto r = natd::ec2_parse_assign_private_ip(
                "<AssignPrivateIpAddressesResponse" + kNs +
                "><requestId>a-1</requestId><networkInterfaceId>eni-0123456789abcdef0"
                "</networkInterfaceId><assignedPrivateIpAddressesSet><item><privateIpAddress>"
                "10.0.0.5</privateIpAddress></item><item><privateIpAddress>10.0.0.6"
                "</privateIpAddress></item></assignedPrivateIpAddressesSet><return>true"
                "</return></AssignPrivateIpAddressesResponse>");
        REQUIRE(r.ok());
        CHECK(r.value().request_id == "a-1");
        CHECK(r.value().network_interface_id == "eni-0123456789abcdef0");
        CHECK(r.value().assigned == std::vector{Ipv4Address::parse("10.0.0.5").value(),
                                                Ipv4Address::parse("10.0.0.6").value()});
        CHECK(r.value().returned);

        const auto none = natd::ec2_parse_assign_private_ip(
                "<AssignPrivateIpAddressesResponse><requestId/><return>false</return>"
                "</AssignPrivateIpAddressesResponse>");
        REQUIRE(none.ok());
        CHECK(none.value().assigned.empty());
        CHECK_FALSE(none.value().returned);
        CHECK(none.value().request_id.empty());

        auto fails = [](const std::string& inner, const char* says) {
                const auto bad = natd::ec2_parse_assign_private_ip(
                        "<AssignPrivateIpAddressesResponse>" + inner +
                        "</AssignPrivateIpAddressesResponse>");
                REQUIRE_FALSE(bad.ok());
                CHECK_THAT(bad.error(),
                           Contains("EC2 AssignPrivateIpAddresses response: ") && Contains(says));
        };
        fails("<assignedPrivateIpAddressesSet><item><privateIpAddress>10.0.0.256"
              "</privateIpAddress></item></assignedPrivateIpAddressesSet><return>true</return>",
              "'10.0.0.256' is not an IPv4 address");
        fails("<assignedPrivateIpAddressesSet><item/></assignedPrivateIpAddressesSet>"
              "<return>true</return>",
              "<item> has no <privateIpAddress>");
        fails("<networkInterfaceId>eni-1</networkInterfaceId>", "has no <return>");
}

TEST_CASE("DescribeRouteTables: routes from routeSet only", "[ec2]") {
        const auto r = natd::ec2_parse_describe_route_tables(describe(kRouteTable));
        REQUIRE(r.ok());
        const std::vector<Ec2RouteTable> expected{
                {"rtb-0123456789abcdef0",
                 {Ec2Route{"0.0.0.0/0", "eni-0aaaaaaaaaaaaaaaa", "", "i-0bbbbbbbbbbbbbbbb",
                           "active"},
                  Ec2Route{"10.0.0.0/16", "", "local", "", "active"}}}};
        CHECK(r.value() == expected);

        // Two tables, a blackhole route, an IPv6 route, a nextToken.
        const auto two = natd::ec2_parse_describe_route_tables(
                describe(kRouteTable +
                         "<item><routeTableId>rtb-44444444</routeTableId><routeSet><item>"
                         "<destinationCidrBlock>0.0.0.0/0</destinationCidrBlock>"
                         "<networkInterfaceId>eni-55555555</networkInterfaceId><state>blackhole"
                         "</state></item><item><destinationIpv6CidrBlock>::/0"
                         "</destinationIpv6CidrBlock><gatewayId>igw-66666666</gatewayId>"
                         "<state>active</state></item></routeSet></item>") +
                "<!-- after the document -->");
        REQUIRE(two.ok());
        REQUIRE(two.value().size() == 2);
        CHECK(two.value()[1] ==
              Ec2RouteTable{"rtb-44444444",
                            {Ec2Route{"0.0.0.0/0", "eni-55555555", "", "", "blackhole"},
                             Ec2Route{"", "", "igw-66666666", "", "active"}}});

        const auto paged = natd::ec2_parse_describe_route_tables(
                "<DescribeRouteTablesResponse><routeTableSet/><nextToken>abc</nextToken>"
                "</DescribeRouteTablesResponse>");
        REQUIRE(paged.ok());
        CHECK(paged.value().empty());
}

TEST_CASE("DescribeRouteTables: <item>s elsewhere are not routes", "[ec2]") {
        // A tag and an association that look like routes; a route-like item
        // directly in the table; none of them is one.
        const auto r = natd::ec2_parse_describe_route_tables(describe(
                "<item><routeTableId>rtb-77777777</routeTableId>"
                "<tagSet><item><destinationCidrBlock>1.2.3.0/24</destinationCidrBlock>"
                "<state>active</state></item></tagSet>"
                "<routeSet><item><destinationCidrBlock>10.1.0.0/16</destinationCidrBlock>"
                "<gatewayId>local</gatewayId><state>active</state></item></routeSet>"
                "<associationSet><item><routeTableId>rtb-88888888</routeTableId><routeSet><item>"
                "<destinationCidrBlock>9.9.9.9/32</destinationCidrBlock></item></routeSet>"
                "</item></associationSet>"
                "<item><destinationCidrBlock>8.8.8.8/32</destinationCidrBlock></item></item>"));
        REQUIRE(r.ok());
        REQUIRE(r.value().size() == 1);
        CHECK(r.value()[0] ==
              Ec2RouteTable{"rtb-77777777", {Ec2Route{"10.1.0.0/16", "", "local", "", "active"}}});
}

TEST_CASE("DescribeRouteTables: missing and doubled elements are errors", "[ec2]") {
        auto fails = [](const std::string& xml, const char* says) {
                const auto r = natd::ec2_parse_describe_route_tables(xml);
                REQUIRE_FALSE(r.ok());
                CHECK_THAT(r.error(),
                           Contains("EC2 DescribeRouteTables response: ") && Contains(says));
        };
        fails("<DescribeRouteTablesResponse" + kNs + "/>",
              "<DescribeRouteTablesResponse> has no <routeTableSet>");
        fails(describe("<item><routeSet/></item>"), "route table 1: <item> has no <routeTableId>");
        fails(describe(kRouteTable + "<item><routeTableId/><routeSet/></item>"),
              "route table 2: <routeTableId> is empty");
        fails(describe("<item><routeTableId>rtb-1</routeTableId></item>"),
              "route table 'rtb-1': <item> has no <routeSet>");
        fails(describe("<item><routeTableId>rtb-1</routeTableId><routeSet><item/><item><state>a"
                       "</state><state>b</state></item></routeSet></item>"),
              "route table 'rtb-1', route 2: <item> has more than one <state>");
        fails(describe(kRouteTable).substr(0, describe(kRouteTable).size() / 2),
              "not well-formed XML");
        fails(replace_route("<return>true</return>"),
              "the root element is <ReplaceRouteResponse>, not <DescribeRouteTablesResponse>");
}

TEST_CASE("Hostile EC2 responses are refused, not obeyed", "[ec2]") {
        // Entity expansion ("billion laughs"): no DOCTYPE is accepted.
        const auto laughs = natd::ec2_parse_return(
                "ReplaceRoute",
                "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
                "\"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><ReplaceRouteResponse><return>&b;</return>"
                "</ReplaceRouteResponse>");
        REQUIRE_FALSE(laughs.ok());
        CHECK_THAT(laughs.error(), Contains("refused") && Contains("DOCTYPE"));

        // Deep nesting.
        std::string deep = "<ReplaceRouteResponse>";
        for (int i = 0; i < 10000; ++i)
                deep += "<a>";
        const auto nested = natd::ec2_parse_return("ReplaceRoute", deep);
        REQUIRE_FALSE(nested.ok());
        CHECK_THAT(nested.error(), Contains("nest deeper than 32"));

        // Too large, whatever is in it.
        const std::string huge = replace_route("<return>true</return>" +
                                               std::string(natd::kEc2MaxResponseBytes, ' '));
        const auto big = natd::ec2_parse_return("ReplaceRoute", huge);
        REQUIRE_FALSE(big.ok());
        CHECK_THAT(big.error(), Contains("more than 1048576"));

        // A NUL byte, bytes that are not UTF-8.
        CHECK_FALSE(natd::ec2_parse_return("ReplaceRoute", replace_route(std::string(
                                                                   "<return>tr\0ue</return>", 22)))
                            .ok());
        CHECK_FALSE(natd::ec2_parse_return("ReplaceRoute", replace_route("<return>\xff</return>"))
                            .ok());

        // A long bad value is shortened in the message.
        const auto long_value = natd::ec2_parse_return(
                "ReplaceRoute", replace_route("<return>" + std::string(5000, 'x') + "</return>"));
        REQUIRE_FALSE(long_value.ok());
        CHECK(long_value.error().size() < 300);
}

TEST_CASE("Which EC2 errors are worth another try", "[ec2]") {
        CHECK(natd::ec2_error_retriable(500, "InternalError"));
        CHECK(natd::ec2_error_retriable(503, ""));  // no body worth reading
        CHECK(natd::ec2_error_retriable(599, "Whatever"));
        CHECK(natd::ec2_error_retriable(429, ""));
        for (const char* code :
             {"RequestLimitExceeded", "Throttling", "ThrottlingException", "InternalError",
              "InternalFailure", "Unavailable", "ServiceUnavailable", "RequestTimeout"}) {
                INFO(code);
                CHECK(natd::ec2_error_retriable(400, code));
        }
        for (const char* code : {"RequestExpired", "AuthFailure", "UnauthorizedOperation",
                                 "InvalidRouteTableID.NotFound", "InvalidParameterValue",
                                 "ExpiredToken", "", "throttling"}) {
                INFO(code);
                CHECK_FALSE(natd::ec2_error_retriable(400, code));
        }
        CHECK_FALSE(natd::ec2_error_retriable(403, "UnauthorizedOperation"));
        CHECK_FALSE(natd::ec2_error_retriable(404, ""));
        CHECK_FALSE(natd::ec2_error_retriable(600, ""));

        CHECK(natd::ec2_error_credentials_expired("ExpiredToken"));
        CHECK(natd::ec2_error_credentials_expired("ExpiredTokenException"));
        CHECK_FALSE(natd::ec2_error_credentials_expired("RequestExpired"));
        CHECK_FALSE(natd::ec2_error_credentials_expired("AuthFailure"));
        CHECK_FALSE(natd::ec2_error_credentials_expired(""));
}
