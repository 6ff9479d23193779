#!/usr/bin/env bash
# [Health] Listen=: GET /health for load-balancer and autoscaling health
# checks (lib/health.hpp, doc/health-api.txt), natd without a pair:
#   - waiting for the private ENI: 503, {"healthy": false, "state": "waiting"};
#   - ready: 200, healthy, role "active"; ?role=active 200, ?role=standby
#     503; an unknown role or argument 400; POST 405; another path 404;
#   - the ENI detached: 503 again, within 5 s;
#   - reloaded with [Metrics] Listen= on the same address: one server
#     answers both /metrics and /health; the old health-only port closed.
# Usage: health.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.health "$@"
HEALTH=127.0.0.1:8008
METRICS=127.0.0.1:9647

drift_vpc
printf '%s\n' '' '[Health]' "Listen=$HEALTH" '[Metrics]' "Listen=$METRICS" \
    >>"$ROOT/etc/natd/natd.conf"

# http METHOD URL: HTTP_CODE, HTTP_TYPE and HTTP_BODY of a request from the
# NAT instance; HTTP_CODE 000 when nothing answered.
http() {
    local out
    out=$(ip netns exec "$NS_NAT" curl -sS --max-time 5 -X "$1" -o "$T/http.body" \
        -w '%{http_code} %{content_type}' "http://$2" 2>&1) || out="000 -"
    HTTP_CODE=${out%% *}
    HTTP_TYPE=${out#* }
    HTTP_BODY=$(cat "$T/http.body" 2>/dev/null || true)
}

# health_is CODE STATE [QUERY]: GET /health[?QUERY] answers CODE and a body
# whose "state" is STATE and "healthy" matches CODE.
health_is() {
    http GET "$HEALTH/health${3:+?$3}"
    [[ $HTTP_CODE == "$1" ]] || { echo "answered $HTTP_CODE: $HTTP_BODY"; return 1; }
    local healthy=false
    [[ $1 == 200 ]] && healthy=true
    local got
    got=$("$PY" -c 'import json,sys; b=json.load(sys.stdin); print(b["healthy"] is True and "true" or "false", b["state"], b["role"])' \
        <<<"$HTTP_BODY" 2>&1) || { echo "not JSON: $HTTP_BODY"; return 1; }
    [[ $got == "$healthy $2 active" ]] || { echo "body says '$got', expected '$healthy $2 active': $HTTP_BODY"; return 1; }
}

# expect_health CODE STATE WHAT: health_is CODE STATE within 5 s (and once
# more here: wait_until runs it in a subshell, this sets HTTP_*).
expect_health() {
    wait_until 5 health_is "$1" "$2" || fail "$3: GET /health: $WAIT_OUT"
    health_is "$1" "$2" || fail "$3: GET /health changed its answer"
}

natd_start
wait_until 10 natd_on_bus_api || fail "natd did not own io.natd1 on the bus within 10s: $WAIT_OUT"
expect_health 503 waiting "waiting for the private ENI"
[[ $HTTP_TYPE == application/json ]] || fail "GET /health: Content-Type '$HTTP_TYPE'"
pass "waiting for the private ENI: GET /health 503 ($HTTP_BODY)"

eni_plug
eni_name card
natd_wait_ready
expect_health 200 ready "ready"
pass "ready: GET /health 200 ($HTTP_BODY)"
health_is 200 ready role=active || fail "ready: GET /health?role=active"
health_is 503 ready role=standby || fail "ready: GET /health?role=standby"
pass "?role=active 200, ?role=standby 503 ($HTTP_BODY)"
for query in role=primary verbose=1; do
    http GET "$HEALTH/health?$query"
    [[ $HTTP_CODE == 400 && $HTTP_BODY == *'"reason"'* ]] ||
        fail "GET /health?$query answered $HTTP_CODE, expected 400 with a reason: $HTTP_BODY"
done
http POST "$HEALTH/health"
[[ $HTTP_CODE == 405 ]] || fail "POST /health answered $HTTP_CODE, expected 405"
http GET "$HEALTH/metrics"
[[ $HTTP_CODE == 404 ]] || fail "GET /metrics on the health port answered $HTTP_CODE, expected 404"
http GET "$METRICS/health"
[[ $HTTP_CODE == 404 ]] || fail "GET /health on the metrics port answered $HTTP_CODE, expected 404"
pass "an unknown role or argument 400, POST 405, each port serves only its own path (404)"
check_egress

ip -n "$NS_NAT" link del "$PRIV_DEV"
expect_health 503 waiting "the private ENI detached"
pass "the private ENI detached: GET /health 503 ($HTTP_BODY)"

sed -i "s/^Listen=$METRICS\$/Listen=$HEALTH/" "$ROOT/etc/natd/natd.conf"
natd_ctl reload
((CTL_RC == 0)) || fail "natd-ctl reload exited $CTL_RC: $CTL_ERR"
both() {
    health_is 503 waiting || return 1
    http GET "$HEALTH/metrics"
    [[ $HTTP_CODE == 200 && $HTTP_BODY == *natd_up* ]] || { echo "GET /metrics answered $HTTP_CODE"; return 1; }
    http GET "$METRICS/metrics"
    [[ $HTTP_CODE == 000 ]] || { echo "the old metrics port still answers ($HTTP_CODE)"; return 1; }
}
wait_until 5 both || fail "[Metrics] Listen= = [Health] Listen=: $WAIT_OUT"
pass "[Metrics] and [Health] on one address: one server answers /metrics and /health, the old port is closed"
natd_stop
http GET "$HEALTH/health"
[[ $HTTP_CODE == 000 ]] || fail "natd stopped: GET /health still answered $HTTP_CODE"
pass "natd stopped (SIGTERM, exit 0): nothing answers on $HEALTH"
