// EC2 Query API responses (lib/ec2-response.hpp), read by expat: every
// input goes to each ec2_parse_* function, as any of them may receive any
// body the network returns.
#include <cstddef>
#include <cstdint>

#include "ec2-response.hpp"
#include "fuzz-input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
        const auto xml = natd::fuzz::as_text(data, size);
        if (auto error = natd::ec2_parse_error(xml); error.ok()) {
                (void)natd::ec2_error_retriable(503, error.value().code);
                (void)natd::ec2_error_credentials_expired(error.value().code);
        }
        (void)natd::ec2_parse_return("ReplaceRoute", xml);
        (void)natd::ec2_parse_return("UnassignPrivateIpAddresses", xml);
        (void)natd::ec2_parse_assign_private_ip(xml);
        (void)natd::ec2_parse_describe_route_tables(xml);
        return 0;
}
