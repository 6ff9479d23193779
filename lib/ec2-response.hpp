// Reading EC2 Query API responses: the XML of an error (HTTP 4xx/5xx) and
// of the answers to natd's requests (ec2-query.hpp), as plain data, and
// which errors are worth another try. Pure: the EC2 client hands in the
// body it received. The XML is read by expat, never by hand; elements are
// matched by local name, so the namespace EC2 puts on them does not matter.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ipv4.hpp"
#include "result.hpp"

namespace natd {

// Bodies larger than this are refused unread: EC2's answers to natd's
// requests are a few KiB, and the cap bounds what a bad one costs.
inline constexpr std::size_t kEc2MaxResponseBytes = std::size_t{1024} * 1024;

// <Response><Errors><Error><Code>..</Code><Message>..</Message></Error>
// </Errors><RequestID>..</RequestID></Response>: the first error.
struct Ec2Error {
        std::string code;  // "UnauthorizedOperation"
        std::string message;
        std::string request_id;  // for AWS support; empty when none was given

        bool operator==(const Ec2Error&) const = default;
};
Result<Ec2Error> ec2_parse_error(std::string_view xml);

// The answer of an action that only says whether it did it: ReplaceRoute,
// UnassignPrivateIpAddresses (<ActionResponse><requestId/><return>).
struct Ec2Return {
        std::string request_id;
        bool returned = false;  // <return>: false means EC2 did not do it

        bool operator==(const Ec2Return&) const = default;
};
// `action` is the request's ("ReplaceRoute"): the root must be its response.
Result<Ec2Return> ec2_parse_return(std::string_view action, std::string_view xml);

struct Ec2AssignedAddresses {
        std::string request_id;
        std::string network_interface_id;
        std::vector<Ipv4Address> assigned;  // assignedPrivateIpAddressesSet
        bool returned = false;

        bool operator==(const Ec2AssignedAddresses&) const = default;
};
Result<Ec2AssignedAddresses> ec2_parse_assign_private_ip(std::string_view xml);

// One entry of a route table's routeSet. A target EC2 does not name is empty.
struct Ec2Route {
        // destinationCidrBlock, as EC2 wrote it; empty for an IPv6 or a
        // prefix-list route (natd has none of those to manage).
        std::string destination;
        std::string network_interface_id;  // eni-...
        std::string gateway_id;            // "local", igw-...
        std::string instance_id;           // i-...
        std::string state;                 // "active"; "blackhole" when the target is gone

        bool operator==(const Ec2Route&) const = default;
};

struct Ec2RouteTable {
        std::string id;  // rtb-...
        std::vector<Ec2Route> routes;

        bool operator==(const Ec2RouteTable&) const = default;
};
// The route tables of a DescribeRouteTables answer, in its order; a
// <nextToken> (more pages) is not followed: natd names its tables.
Result<std::vector<Ec2RouteTable>> ec2_parse_describe_route_tables(std::string_view xml);

// Whether the same request may succeed if sent again later (with backoff):
// the service was busy, throttled or failed inside.
bool ec2_error_retriable(long http_status, std::string_view code);
// Whether the error says the session credentials have expired: the caller
// fetches new ones (aws-credentials.hpp) and tries once more.
bool ec2_error_credentials_expired(std::string_view code);

}  // namespace natd
