// The IMDSv2 token's lifetime: when natd renews it, and what TTL it counts on.
#include <catch2/catch.hpp>

#include "imds-client.hpp"

using natd::ImdsToken;

TEST_CASE("An IMDS token is renewed a tenth of its lifetime (1-60 s) before it expires", "[imds]") {
        constexpr uint64_t s = 1'000'000;
        const ImdsToken six_hours{"t", 100 * s, 21600};
        CHECK_FALSE(natd::imds_token_due(six_hours, 100 * s));
        CHECK_FALSE(natd::imds_token_due(six_hours, (100 + 21600 - 61) * s));
        CHECK(natd::imds_token_due(six_hours, (100 + 21600 - 60) * s));  // margin capped at 60 s
        const ImdsToken short_lived{"t", 100 * s, 5};
        CHECK_FALSE(natd::imds_token_due(short_lived, 103 * s));
        CHECK(natd::imds_token_due(short_lived, 104 * s));  // margin at least 1 s
        CHECK(natd::imds_token_due(ImdsToken{}, 0));        // none yet
}

TEST_CASE("The TTL natd counts on: the echoed header when valid and not longer", "[imds]") {
        using H = std::map<std::string, std::string>;
        CHECK(natd::imds_granted_ttl({}, 21600) == 21600);
        CHECK(natd::imds_granted_ttl(H{{"x-aws-ec2-metadata-token-ttl-seconds", "2"}}, 21600) == 2);
        CHECK(natd::imds_granted_ttl(H{{"x-aws-ec2-metadata-token-ttl-seconds", "99999"}}, 600) ==
              600);
        CHECK(natd::imds_granted_ttl(H{{"x-aws-ec2-metadata-token-ttl-seconds", "0"}}, 600) == 600);
        CHECK(natd::imds_granted_ttl(H{{"x-aws-ec2-metadata-token-ttl-seconds", "5s"}}, 600) ==
              600);
}
