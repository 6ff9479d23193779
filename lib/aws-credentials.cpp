#include "aws-credentials.hpp"

#include <ctime>
#include <json-c/json.h>
#include <memory>

#include "handles.hpp"

namespace natd {

namespace {

using JsonPtr = std::unique_ptr<json_object, FreeWith<json_object_put>>;
using TokenerPtr = std::unique_ptr<json_tokener, FreeWith<json_tokener_free>>;

// The credentials document is a flat object of a few hundred bytes; the
// caps bound what a broken or hostile answer costs.
constexpr std::size_t kMaxBodyBytes = std::size_t{64} * 1024;
constexpr int kMaxDepth = 8;

constexpr std::string_view kWhere = "IMDS instance role credentials";

std::string_view trimmed(std::string_view s) {
        constexpr std::string_view kSpace = " \t\r\n";
        const auto first = s.find_first_not_of(kSpace);
        if (first == std::string_view::npos)
                return {};
        return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

Error failure(std::string_view what) {
        return Error{std::string(kWhere) + ": " + std::string(what)};
}

// The string member `name` of `object`. Its value is not quoted in any
// error: it may be the secret.
Result<std::string> string_member(json_object* object, const char* name) {
        json_object* member = nullptr;
        if (!json_object_object_get_ex(object, name, &member))
                return failure(std::string("no ") + name);
        if (member == nullptr || !json_object_is_type(member, json_type_string))  // null: nullptr
                return failure(std::string(name) + " is not a string");
        std::string value(json_object_get_string(member),
                          static_cast<std::size_t>(json_object_get_string_len(member)));
        if (value.empty())
                return failure(std::string(name) + " is empty");
        return value;
}

bool is_leap(int year) {
        return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
        static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

bool role_name_char(char c) {
        // IAM role names: letters, digits and +=,.@_-
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               std::string_view("+=,.@_-").find(c) != std::string_view::npos;
}

}  // namespace

Result<int64_t> aws_parse_utc_timestamp(std::string_view text) {
        // YYYY-MM-DDTHH:MM:SSZ
        // 0123456789012345678 9
        constexpr std::string_view kPattern = "dddd-dd-ddTdd:dd:ddZ";
        // Appended piece by piece: GCC 12 warns (-Wrestrict, a false
        // positive) on "literal" + std::string&& in optimized builds.
        std::string quoted = "'";
        quoted += text.substr(0, kPattern.size() + 8);
        if (text.size() > kPattern.size() + 8)
                quoted += "...";
        quoted += "' is not a UTC time YYYY-MM-DDTHH:MM:SSZ";
        const Error bad{quoted};
        if (text.size() != kPattern.size())
                return bad;
        for (std::size_t i = 0; i < kPattern.size(); ++i) {
                const bool digit = text[i] >= '0' && text[i] <= '9';
                if (kPattern[i] == 'd' ? !digit : text[i] != kPattern[i])
                        return bad;
        }
        auto number = [&](std::size_t at, std::size_t digits) {
                int n = 0;
                for (std::size_t i = at; i < at + digits; ++i)
                        n = n * 10 + (text[i] - '0');
                return n;
        };
        const int year = number(0, 4);
        const int month = number(5, 2);
        const int day = number(8, 2);
        const int hour = number(11, 2);
        const int minute = number(14, 2);
        const int second = number(17, 2);
        if (year < 1970 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
            hour > 23 || minute > 59 || second > 59)
                return bad;
        std::tm tm{};
        tm.tm_year = year - 1900;
        tm.tm_mon = month - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = minute;
        tm.tm_sec = second;
        // timegm: UTC whatever the TZ; pure.
        const time_t seconds = timegm(&tm);
        if (seconds == static_cast<time_t>(-1))
                return bad;
        return static_cast<int64_t>(seconds);
}

Result<AwsCredentials> aws_credentials_from_imds(std::string_view json_body) {
        if (json_body.size() > kMaxBodyBytes)
                return failure("the body is " + std::to_string(json_body.size()) +
                               " bytes, more than " + std::to_string(kMaxBodyBytes));
        const TokenerPtr tokener(json_tokener_new_ex(kMaxDepth));
        if (!tokener)
                return failure("could not create a JSON parser");
        json_tokener_set_flags(tokener.get(), JSON_TOKENER_STRICT);
        const JsonPtr root(json_tokener_parse_ex(tokener.get(), json_body.data(),
                                                 static_cast<int>(json_body.size())));
        const json_tokener_error status = json_tokener_get_error(tokener.get());
        if (status == json_tokener_continue)
                return failure("the JSON ends early");
        if (status != json_tokener_success || !root)
                return failure(std::string("not JSON: ") + json_tokener_error_desc(status));
        // Strict mode refuses trailing characters itself; this holds should it not.
        if (!trimmed(json_body.substr(json_tokener_get_parse_end(tokener.get()))).empty())
                return failure("something follows the JSON object");
        if (!json_object_is_type(root.get(), json_type_object))
                return failure("not a JSON object");

        auto code = string_member(root.get(), "Code");
        if (!code.ok())
                return code.failure();
        if (code.value() != "Success") {
                // Code is the service's status word, not a secret.
                std::string shown = code.value().substr(0, 64);
                return failure("Code is '" + shown + "', not Success");
        }
        AwsCredentials credentials;
        const std::pair<const char*, std::string*> fields[] = {
                {"AccessKeyId", &credentials.access_key_id},
                {"SecretAccessKey", &credentials.secret_access_key},
                {"Token", &credentials.session_token},
        };
        for (const auto& [name, into] : fields) {
                auto value = string_member(root.get(), name);
                if (!value.ok())
                        return value.failure();
                *into = std::move(value).value();
        }
        auto expiration = string_member(root.get(), "Expiration");
        if (!expiration.ok())
                return expiration.failure();
        auto seconds = aws_parse_utc_timestamp(expiration.value());
        if (!seconds.ok())
                return failure("Expiration " + seconds.error());
        credentials.expiration_unix_sec = seconds.value();
        return credentials;
}

bool aws_credentials_due(const AwsCredentials& credentials, int64_t now_unix_sec) {
        return credentials.expiration_unix_sec - now_unix_sec < kAwsCredentialsRefreshMarginSec;
}

Result<std::string> aws_role_name_from_listing(std::string_view listing) {
        while (!listing.empty()) {
                const auto nl = listing.find('\n');
                const std::string_view line = trimmed(listing.substr(0, nl));
                listing =
                        nl == std::string_view::npos ? std::string_view{} : listing.substr(nl + 1);
                if (line.empty())
                        continue;
                // IAM allows at most 64 characters; "." and ".." are no
                // names but would be path steps.
                bool valid = line.size() <= 64 && line != "." && line != "..";
                for (const char c : line)
                        valid = valid && role_name_char(c);
                if (!valid)
                        return Error{"IMDS instance role listing: '" +
                                     std::string(line.substr(0, 64)) + "' is not an IAM role name"};
                return std::string(line);
        }
        return Error{"IMDS instance role listing: no instance role"};
}

}  // namespace natd
