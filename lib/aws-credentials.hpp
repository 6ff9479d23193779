// The instance role's temporary credentials, as the instance metadata
// service hands them out (meta-data/iam/security-credentials/ROLE), and
// when to ask for new ones. Pure: imds-client.hpp fetches the bodies; the
// EC2 client signs its requests with the result.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "result.hpp"

namespace natd {

struct AwsCredentials {
        std::string access_key_id;      // ASIA...
        std::string secret_access_key;  // never logged, never in an Error
        std::string session_token;      // X-Amz-Security-Token
        int64_t expiration_unix_sec = 0;

        bool operator==(const AwsCredentials&) const = default;
};

// The JSON body of GET meta-data/iam/security-credentials/ROLE:
// {"Code": "Success", "AccessKeyId": .., "SecretAccessKey": .., "Token": ..,
// "Expiration": "YYYY-MM-DDTHH:MM:SSZ", ...}. An error names the field at
// fault and never quotes the body (it holds the secret).
Result<AwsCredentials> aws_credentials_from_imds(std::string_view json_body);

// "YYYY-MM-DDTHH:MM:SSZ", UTC, as seconds since the epoch; nothing else
// (no fractions, no offsets, no leap second, no 31 April).
Result<int64_t> aws_parse_utc_timestamp(std::string_view text);

// Whether to fetch new credentials now: less than 5 minutes of these are
// left. IMDS makes new credentials available at least 5 minutes before the
// old ones expire (the AWS SDKs refresh on the same margin); asking sooner
// only returns the same ones again.
inline constexpr int64_t kAwsCredentialsRefreshMarginSec = int64_t{5} * 60;
bool aws_credentials_due(const AwsCredentials& credentials, int64_t now_unix_sec);

// The role in the body of GET meta-data/iam/security-credentials/: its
// first non-empty line (an instance profile has one role). An error when
// there is none ("no instance role") or it is no IAM role name (it goes
// into the next request's path).
Result<std::string> aws_role_name_from_listing(std::string_view listing);

}  // namespace natd
