// The instance role's credentials from IMDS (lib/aws-credentials.hpp): the
// JSON of meta-data/iam/security-credentials/ROLE with its Expiration
// timestamp, and the role listing before it. Every input goes to all three
// readers: each must take any bytes.
#include <cstddef>
#include <cstdint>

#include "aws-credentials.hpp"
#include "fuzz-input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
        const auto text = natd::fuzz::as_text(data, size);
        if (auto credentials = natd::aws_credentials_from_imds(text); credentials.ok())
                (void)natd::aws_credentials_due(credentials.value(), 0);
        (void)natd::aws_parse_utc_timestamp(text);
        (void)natd::aws_role_name_from_listing(text);
        return 0;
}
