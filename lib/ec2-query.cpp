#include "ec2-query.hpp"

namespace natd {

namespace {

bool unreserved(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.' || c == '~';
}

bool lower_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

}  // namespace

std::string ec2_percent_encode(std::string_view text) {
        static constexpr char kHex[] = "0123456789ABCDEF";
        std::string out;
        out.reserve(text.size());
        for (const char c : text) {
                if (unreserved(c)) {
                        out += c;
                        continue;
                }
                // The byte, not the char: UTF-8 'é' is %C3%A9, never a sign-extended mess.
                const auto byte = static_cast<unsigned char>(c);
                out += '%';
                out += kHex[byte >> 4U];
                out += kHex[byte & 0x0FU];
        }
        return out;
}

std::string ec2_form_body(const Ec2Request& request) {
        std::string body = "Action=" + ec2_percent_encode(request.action) +
                           "&Version=" + ec2_percent_encode(kEc2ApiVersion);
        for (const auto& [name, value] : request.parameters)
                body.append("&")
                        .append(ec2_percent_encode(name))
                        .append("=")
                        .append(ec2_percent_encode(value));
        return body;
}

Ec2Request ec2_assign_private_ip(std::string_view eni_id, const Ipv4Address& address,
                                 bool allow_reassignment) {
        return {"AssignPrivateIpAddresses",
                {{"NetworkInterfaceId", std::string(eni_id)},
                 {"PrivateIpAddress.1", address.str()},
                 {"AllowReassignment", allow_reassignment ? "true" : "false"}}};
}

Ec2Request ec2_unassign_private_ip(std::string_view eni_id, const Ipv4Address& address) {
        return {"UnassignPrivateIpAddresses",
                {{"NetworkInterfaceId", std::string(eni_id)},
                 {"PrivateIpAddress.1", address.str()}}};
}

Ec2Request ec2_replace_route(std::string_view route_table_id, const Ipv4Cidr& destination,
                             std::string_view eni_id) {
        return {"ReplaceRoute",
                {{"RouteTableId", std::string(route_table_id)},
                 {"DestinationCidrBlock", destination.str()},
                 {"NetworkInterfaceId", std::string(eni_id)}}};
}

Ec2Request ec2_describe_route_tables(const std::vector<std::string>& route_table_ids) {
        Ec2Request request{"DescribeRouteTables", {}};
        // EC2 lists are 1-based.
        for (std::size_t i = 0; i < route_table_ids.size(); ++i)
                request.parameters.emplace_back("RouteTableId." + std::to_string(i + 1),
                                                route_table_ids[i]);
        return request;
}

bool ec2_valid_resource_id(std::string_view prefix, std::string_view id) {
        if (prefix.empty() || !id.starts_with(prefix) || id.size() <= prefix.size() ||
            id[prefix.size()] != '-')
                return false;
        const std::string_view hex = id.substr(prefix.size() + 1);
        if (hex.size() != 8 && hex.size() != 17)
                return false;
        for (const char c : hex)
                if (!lower_hex(c))
                        return false;
        return true;
}

}  // namespace natd
