// The instance role's credentials from IMDS: the JSON document, its
// timestamp, when to refresh, the role listing, and that the secret stays
// out of every error.
#include <catch2/catch.hpp>

#include "aws-credentials.hpp"

using Catch::Matchers::Contains;
using natd::AwsCredentials;

namespace {

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

std::string body(const std::string& code = "Success",
                 const std::string& expiration = "\"2026-12-03T16:00:00Z\"") {
        return R"({"Code" : ")" + code +
               R"(","LastUpdated" : "2026-12-03T10:00:00Z","Type" : "AWS-HMAC",)"
               R"("AccessKeyId" : "ASIAEXAMPLE","SecretAccessKey" : ")" +
               kSecret + R"(","Token" : "IQoJb3JpZ2luX2VjE+/=","Expiration" : )" + expiration + "}";
}

// A body with `field`'s member replaced by `replacement` (nothing: removed).
std::string without(const std::string& field, const std::string& replacement = "") {
        std::string b = body();
        const auto at = b.find("\"" + field + "\"");
        REQUIRE(at != std::string::npos);
        auto end = b.find_first_of(",}", b.find(':', at) + 3);  // past the value's quotes
        if (b[end] == ',')
                ++end;
        b.replace(at, end - at, replacement);
        return b;
}

void fails(const std::string& json, const std::string& says) {
        const auto r = natd::aws_credentials_from_imds(json);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error(), Contains("IMDS instance role credentials: ") && Contains(says));
        CHECK_THAT(r.error(), !Contains(kSecret) && !Contains("wJalr"));
}

}  // namespace

TEST_CASE("Credentials from the IMDS document", "[aws]") {
        const auto r = natd::aws_credentials_from_imds(body());
        REQUIRE(r.ok());
        CHECK(r.value() == AwsCredentials{"ASIAEXAMPLE", kSecret, "IQoJb3JpZ2luX2VjE+/=",
                                          1796313600});  // date -ud 2026-12-03T16:00:00Z +%s
        // Whitespace around it, unknown members: fine.
        CHECK(natd::aws_credentials_from_imds("\n  " + body() + "\n").ok());
}

TEST_CASE("A bad credentials document names the field, never the secret", "[aws]") {
        fails(body("Failed"), "Code is 'Failed', not Success");
        fails(without("Code"), "no Code");
        fails(without("AccessKeyId"), "no AccessKeyId");
        fails(without("SecretAccessKey"), "no SecretAccessKey");
        fails(without("Token"), "no Token");
        fails(without("SecretAccessKey", R"("SecretAccessKey" : "",)"), "SecretAccessKey is empty");
        fails(without("Token", R"("Token" : 42,)"), "Token is not a string");
        fails(without("SecretAccessKey", R"("SecretAccessKey" : null,)"),
              "SecretAccessKey is not a string");
        fails(body("Success", "\"2026-12-03 16:00:00\""),
              "Expiration '2026-12-03 16:00:00' is not a UTC time");
        fails(body("Success", "1796313600"), "Expiration is not a string");
        fails(body().substr(0, body().size() / 2), "the JSON ends early");
        fails(body() + "{}", "not JSON");
        fails(body() + " x", "");
        fails("[\"" + std::string(kSecret) + "\"]", "not a JSON object");
        fails("{'Code': 'Success'}", "not JSON");  // strict: no single quotes
        fails("", "ends early");
        fails("garbage " + std::string(kSecret), "not JSON");
        fails(std::string(70000, ' '), "more than 65536");
        fails(std::string(100, '['), "");
}

TEST_CASE("UTC timestamps: YYYY-MM-DDTHH:MM:SSZ and nothing else", "[aws]") {
        CHECK(natd::aws_parse_utc_timestamp("1970-01-01T00:00:00Z").value() == 0);
        CHECK(natd::aws_parse_utc_timestamp("2026-12-03T16:00:00Z").value() == 1796313600);
        CHECK(natd::aws_parse_utc_timestamp("2028-02-29T23:59:59Z").value() == 1835481599);
        CHECK(natd::aws_parse_utc_timestamp("2000-02-29T00:00:00Z").ok());
        for (const char* bad :
             {"2026-12-03T16:00:00", "2026-12-03T16:00:00+00:00", "2026-12-03T16:00:00.000Z",
              "2026-12-03 16:00:00Z", "2026-13-03T16:00:00Z", "2026-00-03T16:00:00Z",
              "2026-04-31T16:00:00Z", "2027-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
              "2026-12-00T16:00:00Z", "2026-12-03T24:00:00Z", "2026-12-03T16:60:00Z",
              "2026-12-03T16:00:60Z", "2026-12-3T16:00:00Z", "+026-12-03T16:00:00Z",
              "2026-12-03t16:00:00z", "1969-12-31T23:59:59Z", "", "2026-12-03T16:00:0 Z"}) {
                INFO(bad);
                const auto r = natd::aws_parse_utc_timestamp(bad);
                REQUIRE_FALSE(r.ok());
                CHECK_THAT(r.error(), Contains("is not a UTC time YYYY-MM-DDTHH:MM:SSZ"));
        }
}

TEST_CASE("Credentials are due with less than 5 minutes left", "[aws]") {
        const AwsCredentials c{"a", "s", "t", 10000};
        CHECK_FALSE(natd::aws_credentials_due(c, 0));
        CHECK_FALSE(natd::aws_credentials_due(c, 10000 - 300));  // exactly 5 minutes
        CHECK(natd::aws_credentials_due(c, 10000 - 299));
        CHECK(natd::aws_credentials_due(c, 10000));
        CHECK(natd::aws_credentials_due(c, 20000));  // expired
}

TEST_CASE("The instance role from the listing", "[aws]") {
        CHECK(natd::aws_role_name_from_listing("natd-role").value() == "natd-role");
        CHECK(natd::aws_role_name_from_listing("\r\n\n  natd-role\r\nother\n").value() ==
              "natd-role");
        CHECK(natd::aws_role_name_from_listing("a+=,.@_-Z9").value() == "a+=,.@_-Z9");
        for (const char* none : {"", "\n", " \r\n \n"}) {
                const auto r = natd::aws_role_name_from_listing(none);
                REQUIRE_FALSE(r.ok());
                CHECK(r.error() == "IMDS instance role listing: no instance role");
        }
        for (const char* bad : {"../../user-data", "..", "role/x", "ro le", "r?x"}) {
                INFO(bad);
                const auto r = natd::aws_role_name_from_listing(bad);
                REQUIRE_FALSE(r.ok());
                CHECK_THAT(r.error(), Contains("is not an IAM role name"));
        }
        CHECK_FALSE(natd::aws_role_name_from_listing(std::string(65, 'r')).ok());
        CHECK(natd::aws_role_name_from_listing(std::string(64, 'r')).ok());
}
