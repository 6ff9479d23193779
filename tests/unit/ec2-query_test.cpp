// EC2 Query API request bodies: percent-encoding, the parameters of each
// action natd sends, and which resource ids are well formed.
#include <catch2/catch.hpp>

#include "ec2-query.hpp"

using natd::Ec2Request;
using natd::Ipv4Address;
using natd::Ipv4Cidr;

TEST_CASE("EC2 percent-encoding keeps the unreserved characters only", "[ec2]") {
        CHECK(natd::ec2_percent_encode("AZaz09-_.~") == "AZaz09-_.~");
        CHECK(natd::ec2_percent_encode("0.0.0.0/0") == "0.0.0.0%2F0");
        CHECK(natd::ec2_percent_encode("a b") == "a%20b");  // never '+'
        CHECK(natd::ec2_percent_encode("a+b=c&d") == "a%2Bb%3Dc%26d");
        CHECK(natd::ec2_percent_encode("%2F") == "%252F");        // no double decoding later
        CHECK(natd::ec2_percent_encode("\xC3\xA9") == "%C3%A9");  // UTF-8 'é', upper-case hex
        CHECK(natd::ec2_percent_encode(std::string_view("\0\xff\n", 3)) == "%00%FF%0A");
        CHECK(natd::ec2_percent_encode("") == "");
}

TEST_CASE("A form body: Action, Version, then the parameters in order", "[ec2]") {
        CHECK(natd::ec2_form_body(Ec2Request{"DescribeRouteTables", {}}) ==
              "Action=DescribeRouteTables&Version=2016-11-15");
        CHECK(natd::ec2_form_body(Ec2Request{"X", {{"B", "2 /"}, {"A.1", "é"}}}) ==
              "Action=X&Version=2016-11-15&B=2%20%2F&A.1=%C3%A9");
}

TEST_CASE("AssignPrivateIpAddresses and UnassignPrivateIpAddresses", "[ec2]") {
        const auto address = Ipv4Address::parse("10.0.1.20").value();
        const Ec2Request assign =
                natd::ec2_assign_private_ip("eni-0123456789abcdef0", address, true);
        CHECK(assign.action == "AssignPrivateIpAddresses");
        CHECK(natd::ec2_form_body(assign) ==
              "Action=AssignPrivateIpAddresses&Version=2016-11-15"
              "&NetworkInterfaceId=eni-0123456789abcdef0&PrivateIpAddress.1=10.0.1.20"
              "&AllowReassignment=true");
        CHECK(natd::ec2_assign_private_ip("eni-1", address, false).parameters.back() ==
              std::pair<std::string, std::string>{"AllowReassignment", "false"});

        CHECK(natd::ec2_form_body(
                      natd::ec2_unassign_private_ip("eni-0123456789abcdef0", address)) ==
              "Action=UnassignPrivateIpAddresses&Version=2016-11-15"
              "&NetworkInterfaceId=eni-0123456789abcdef0&PrivateIpAddress.1=10.0.1.20");
}

TEST_CASE("ReplaceRoute encodes the CIDR's slash", "[ec2]") {
        const auto request = natd::ec2_replace_route(
                "rtb-0abc1234def567890", Ipv4Cidr::parse("0.0.0.0/0").value(), "eni-12345678");
        CHECK(natd::ec2_form_body(request) ==
              "Action=ReplaceRoute&Version=2016-11-15&RouteTableId=rtb-0abc1234def567890"
              "&DestinationCidrBlock=0.0.0.0%2F0&NetworkInterfaceId=eni-12345678");
        CHECK(natd::ec2_replace_route("rtb-1", Ipv4Cidr::parse("192.168.0.0/16").value(), "eni-2")
                      .parameters[1]
                      .second == "192.168.0.0/16");
}

TEST_CASE("DescribeRouteTables numbers its ids from 1", "[ec2]") {
        CHECK(natd::ec2_form_body(natd::ec2_describe_route_tables(
                      {"rtb-11111111", "rtb-22222222", "rtb-33333333"})) ==
              "Action=DescribeRouteTables&Version=2016-11-15&RouteTableId.1=rtb-11111111"
              "&RouteTableId.2=rtb-22222222&RouteTableId.3=rtb-33333333");
        CHECK(natd::ec2_describe_route_tables({}).parameters.empty());
}

TEST_CASE("EC2 resource ids: prefix, dash, 8 or 17 lower-case hex digits", "[ec2]") {
        CHECK(natd::ec2_valid_resource_id("rtb", "rtb-0123456789abcdef0"));
        CHECK(natd::ec2_valid_resource_id("rtb", "rtb-0a1b2c3d"));
        CHECK(natd::ec2_valid_resource_id("eni", "eni-0123456789abcdef0"));
        CHECK_FALSE(natd::ec2_valid_resource_id("eni", "rtb-0123456789abcdef0"));
        CHECK_FALSE(natd::ec2_valid_resource_id("rtb", "rtb-0123456789ABCDEF0"));   // upper case
        CHECK_FALSE(natd::ec2_valid_resource_id("rtb", "rtb-0123456789abcdef"));    // 16
        CHECK_FALSE(natd::ec2_valid_resource_id("rtb", "rtb-0123456789abcdef01"));  // 18
        CHECK_FALSE(natd::ec2_valid_resource_id("rtb", "rtb-0a1b2c3"));             // 7
        CHECK_FALSE(natd::ec2_valid_resource_id("rtb", "rtb-0a1b2c3g"));            // not hex
        CHECK_FALSE(natd::ec2_valid_resource_id("rtb", "rtb0a1b2c3d4"));            // no dash
        CHECK_FALSE(natd::ec2_valid_resource_id("rtb", "rtb_0a1b2c3d"));
        CHECK_FALSE(natd::ec2_valid_resource_id("rtb", "rtb-"));
        CHECK_FALSE(natd::ec2_valid_resource_id("rtb", "rtb"));
        CHECK_FALSE(natd::ec2_valid_resource_id("rtb", ""));
        CHECK_FALSE(natd::ec2_valid_resource_id("rtb", " rtb-0a1b2c3d"));
        CHECK_FALSE(natd::ec2_valid_resource_id("rtb", "rtb-0a1b2c3d "));
        CHECK_FALSE(natd::ec2_valid_resource_id("rtb", "xrtb-0a1b2c3d"));
        CHECK_FALSE(natd::ec2_valid_resource_id("", "-0a1b2c3d"));
        CHECK_FALSE(natd::ec2_valid_resource_id("rtb", "rtbassoc-0a1b2c3d"));
}
