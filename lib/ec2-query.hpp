// The bodies of natd's EC2 Query API requests (POST, form-encoded): which
// action, which parameters, spelled the way EC2 wants them. Pure: the EC2
// client signs and sends them; ec2-response.hpp reads the answers.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipv4.hpp"

namespace natd {

// The API version natd's requests and its response parser are written for.
inline constexpr std::string_view kEc2ApiVersion = "2016-11-15";

struct Ec2Request {
        std::string action;  // "ReplaceRoute"
        // In the order they go into the body; names as EC2 spells them
        // ("PrivateIpAddress.1"), values unencoded.
        std::vector<std::pair<std::string, std::string>> parameters;

        bool operator==(const Ec2Request&) const = default;
};

// RFC 3986 percent-encoding: A-Z a-z 0-9 - _ . ~ as they are, every other
// byte %XX in upper-case hex (SigV4 signs exactly these bytes).
std::string ec2_percent_encode(std::string_view text);

// "Action=X&Version=2016-11-15&K1=V1&...", each name and value encoded:
// the body of the POST (Content-Type application/x-www-form-urlencoded).
std::string ec2_form_body(const Ec2Request& request);

// AssignPrivateIpAddresses: `address` onto `eni_id`; with
// `allow_reassignment`, even when another ENI holds it now (failover).
Ec2Request ec2_assign_private_ip(std::string_view eni_id, const Ipv4Address& address,
                                 bool allow_reassignment);
// UnassignPrivateIpAddresses: `address` off `eni_id`.
Ec2Request ec2_unassign_private_ip(std::string_view eni_id, const Ipv4Address& address);
// ReplaceRoute: traffic of `route_table_id` to `destination` (a network:
// EC2 refuses host bits) goes to `eni_id`.
Ec2Request ec2_replace_route(std::string_view route_table_id, const Ipv4Cidr& destination,
                             std::string_view eni_id);
// DescribeRouteTables of `route_table_ids` (RouteTableId.1..N); none: all
// the caller may see, which natd never wants, but EC2 allows it.
Ec2Request ec2_describe_route_tables(const std::vector<std::string>& route_table_ids);

// `id` is PREFIX-hhhhhhhh or PREFIX-hhhhhhhhhhhhhhhhh (8 or 17 lower-case
// hex digits), as EC2 names resources: prefix "rtb", id "rtb-0123456789abcdef0".
bool ec2_valid_resource_id(std::string_view prefix, std::string_view id);

}  // namespace natd
