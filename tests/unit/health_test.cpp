// GET /health's answers: 200 only when ready (and in the role asked for),
// 503 otherwise, 400 for what it does not understand; always a JSON body.
#include <catch2/catch.hpp>

#include "health.hpp"

using natd::DaemonStatus;
using natd::health_answer;

namespace {

DaemonStatus status(const char* state, const char* text = "") {
        DaemonStatus s;
        s.reachable = true;
        s.state = state;
        s.status_text = text;
        return s;
}

}  // namespace

TEST_CASE("GET /health: 200 when ready, 503 in every other state", "[health]") {
        const auto ready = health_answer(status("ready", "NAT ens5 -> ens6"), "", {});
        CHECK(ready.status == 200);
        CHECK(ready.body ==
              R"({"healthy":true,"state":"ready","role":"active","reason":"NAT ens5 -> ens6"})"
              "\n");
        for (const char* state : {"waiting", "configuring", "degraded", "failed"}) {
                CAPTURE(state);
                const auto a = health_answer(status(state, "why"), "", {});
                CHECK(a.status == 503);
                CHECK(a.body.find(R"("healthy":false)") != std::string::npos);
                CHECK(a.body.find(std::string(R"("state":")") + state + "\"") != std::string::npos);
                CHECK(a.body.find(R"("reason":"why")") != std::string::npos);
        }
        // No status text: the reason still says something.
        CHECK(health_answer(status("waiting"), "", {}).body.find(R"("reason":"natd is waiting")") !=
              std::string::npos);
}

TEST_CASE("GET /health?role=: the role must match too", "[health]") {
        const DaemonStatus ready = status("ready");
        // Without a pair this NAT is active.
        CHECK(health_answer(ready, "", {{"role", "active"}}).status == 200);
        CHECK(health_answer(ready, "", {{"role", "standby"}}).status == 503);
        CHECK(health_answer(ready, "active", {{"role", "active"}}).status == 200);
        const auto standby = health_answer(ready, "standby", {{"role", "active"}});
        CHECK(standby.status == 503);
        CHECK(standby.body.find("ready, but standby, not active") != std::string::npos);
        CHECK(health_answer(ready, "standby", {{"role", "standby"}}).status == 200);
        CHECK(health_answer(ready, "standby", {}).status == 200);  // a ready standby is healthy
        CHECK(health_answer(status("waiting"), "active", {{"role", "active"}}).status == 503);
}

TEST_CASE("GET /health: unknown arguments and roles are 400, not a guess", "[health]") {
        const DaemonStatus ready = status("ready");
        const auto bad_role = health_answer(ready, "", {{"role", "primary"}});
        CHECK(bad_role.status == 400);
        CHECK(bad_role.body.find("expected active or standby") != std::string::npos);
        const auto unknown = health_answer(ready, "", {{"verbose", "1"}});
        CHECK(unknown.status == 400);
        CHECK(unknown.body.find("unknown argument 'verbose'") != std::string::npos);
        // Quotes in what the client sent are escaped, the body stays JSON.
        CHECK(health_answer(ready, "", {{"role", "a\"b"}}).body.find(R"(role='a\"b')") !=
              std::string::npos);
}
