#!/usr/bin/env bash
# Failover benchmark: how long from the active NAT's loss until a private
# host's new connection flows through the standby, as the Elastic IP, and
# whether an established stream survives; in the simulated HA VPC of the
# integration tests (tests/integration/ha-lib.sh: two natd on keepalived
# and conntrackd, a fake EC2 API that moves the lab's routes).
#
# Per loss: a TCP stream the server pushes (stream-probe.py) runs through
# the active NAT and the standby's conntrackd holds its binding; the active
# is lost as ha-pair.sh loses it (links down, then every process in its
# namespace killed); egress-probe.py opens a new connection every 10 ms
# (each abandoned after 300 ms) until one is answered from the Elastic IP:
# that answer's time minus the loss's is the figure. Then: did the stream
# go on without a reset, and its longest gap; natd's own part (keepalived's
# master notify -> takeover confirmed by EC2 and IMDS, from natd's status)
# and keepalived's detection (loss -> that notify). The lost instance comes
# back as a new boot (ha_revive, Preempt=no) and must be a ready
# standby before the next loss, which hits the new active: the two
# alternate. LOSSES losses per advertisement interval, for each of
# AdvertisementIntervalSec=1s and 200ms.
#
# Output: "RESULT failover.<metric> <value> <unit> <lower|higher> <target>"
# and "NOTE failover <text>" lines on stdout; progress in [bench.failover]
# lines.
#
# Usage: failover.sh [--quick] [--losses N] PATH-TO-natd [PATH-TO-natd-ctl]
#   --quick   one loss at 200 ms advertisements (a smoke run for CI: proves
#             the benchmark still runs, measures nothing worth quoting);
#   --losses  losses per advertisement interval (default 10).
# Needs root; exit 77 = skipped (never when CI=true). Only traffic between
# the namespaces it creates; they are deleted on exit.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOSSES=10
ADVERTS=(1s 200ms)
QUICK=

usage() {
    local rc=${1:-2}
    sed -n '/^# Usage:/,/deleted on exit\.$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&"$((rc == 0 ? 1 : 2))"
    exit "$rc"
}
while (($#)); do
    case $1 in
        --quick) QUICK=1 LOSSES=1 ADVERTS=(200ms) ;;
        --losses) LOSSES=$2; shift ;;
        -h | --help) usage 0 ;;
        -*) echo "failover.sh: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
    shift
done
(($# >= 1)) || usage
[[ $LOSSES =~ ^[1-9][0-9]*$ ]] || { echo "--losses: a positive number, not '$LOSSES'" >&2; exit 2; }

INTEG=$BENCH_DIR/../tests/integration
# shellcheck source=tests/integration/lib.sh
source "$INTEG/lib.sh"
# shellcheck source=tests/integration/ha-lib.sh
source "$INTEG/ha-lib.sh"
PROBE=$BENCH_DIR/egress-probe.py

ha_init bench.failover "$@"

result() { printf 'RESULT failover.%s %s %s %s %s\n' "$@"; }
note() { printf 'NOTE failover %s\n' "$*"; }

# The configuration of instance N (nat1: priority 150, nat2: 100; Preempt=no).
config_of() {
    case $1 in
        1) ha_config 10.0.1.12 150 ;;
        2) ha_config 10.0.1.11 100 ;;
    esac
}

# stream_port: the private host's local port of the running stream.
stream_port() {
    local line
    line=$(ip netns exec "$NS_HOST" ss -Htn state established '( dport = :5000 )' | head -n 1)
    [[ -n $line ]] || return 1
    line=$(awk '{print $3}' <<<"$line")
    printf '%s\n' "${line##*:}"
}

# standby_holds N PORT: instance N's conntrackd has the stream's binding
# from the active (its external cache).
standby_holds() {
    ip netns exec "${PFX}nat$1" conntrackd -C "$T/root$1/run/natd/ha/conntrackd.conf" -e 2>/dev/null |
        grep -q "ESTABLISHED.* sport=$2 dport=5000 "
}

# stream_end: stop the stream (after it went on for up to 5 s more, 25
# lines); STREAM_SURVIVED 1/0, STREAM_GAP ms.
stream_end() {
    local before result was_reset gap progressed=1
    before=$(ha_stream_lines)
    wait_for 5 ha_stream_lines_at_least $((before + 25)) || progressed=0
    kill -TERM "$STREAM_PID" 2>/dev/null || true
    wait "$STREAM_PID" || true
    result=$(tail -n 1 "$T/stream.out")
    read -r was_reset gap < <("$PY" -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["reset"], round(r["max_gap_ms"]))' "$result") ||
        fail "the stream's result: '$result'"
    STREAM_GAP=$gap
    STREAM_SURVIVED=0
    [[ $was_reset == False ]] && ((progressed)) && STREAM_SURVIVED=1
    STREAM_RESULT=$result
}

# stats PREFIX TARGET VALUES...: PREFIX_p50_ms (the median; the mean of
# the two middle values for an even count) and PREFIX_max_ms.
stats() {
    local prefix=$1 target=$2 p50 max
    shift 2
    read -r p50 max < <(printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        if (NR % 2) p = v[(NR + 1) / 2]; else p = (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%d %d\n", p + 0.5, v[NR] }')
    result "${prefix}_p50_ms" "$p50" ms lower "$target"
    result "${prefix}_max_ms" "$max" ms lower "$target"
}

ha_lab_create
ACTIVE=1 STANDBY=2
SINCE_ACTIVE=0

# phase_start ADVERT: the pair on AdvertisementIntervalSec=ADVERT, nat1
# active and nat2 a ready standby.
phase_start() {
    HA_ADVERT=$1
    if ((SINCE_ACTIVE == 0)); then
        ha_pair_start
    else
        # Both lost, then booted again one after the other.
        ha_kill_instance "$STANDBY"
        ha_kill_instance "$ACTIVE"
        ha_revive 1 "$(config_of 1)"
        wait_for 20 ha_is 1 active ready || fail "$1: nat1 did not become the ready active NAT: $WAITED"
        ha_revive 2 "$(config_of 2)"
        wait_for 20 ha_is 2 standby ready || fail "$1: nat2 did not become a ready standby: $WAITED"
    fi
    grep -q "advert_int" "$T/root1/run/natd/ha/keepalived.conf" || fail "no advert_int in keepalived.conf"
    ACTIVE=1 STANDBY=2 SINCE_ACTIVE=1
    [[ $(ha_egress) == "$HA_EIP" ]] || fail "$1: the private host does not egress as $HA_EIP"
    info "AdvertisementIntervalSec=$1: nat1 active, nat2 a ready standby ($(grep -m1 advert_int "$T/root1/run/natd/ha/keepalived.conf" | xargs))"
}

# one_loss ADVERT I: lose the active NAT once; appends to the phase's
# arrays.
one_loss() {
    local advert=$1 i=$2 port t_loss=0 probe since detect takeover
    ha_stream_start
    wait_for 5 stream_port || fail "no established stream in the private host"
    port=$WAITED
    wait_for 10 standby_holds "$STANDBY" "$port" ||
        fail "nat$STANDBY's conntrackd has no replicated binding of the stream (port $port)"
    now_ms t_loss
    ha_kill_instance "$ACTIVE"
    probe=$(ip netns exec "$NS_HOST" "$PY" "$PROBE" "$HA_INET_IP" 80 "$HA_EIP" "$t_loss" 20) ||
        fail "$advert loss $i: no egress through nat$STANDBY within 20 s: $probe; nat$STANDBY: $(ha_field "$STANDBY" high_availability.status)"
    RECOVERED+=("$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["recovered_ms"])' "$probe")")
    wait_for 10 ha_is "$STANDBY" active ready || fail "$advert loss $i: nat$STANDBY is not the ready active NAT: $WAITED"
    [[ $(ha_route_owner) == "$(v=ENI_PRIV$STANDBY; echo "${!v}")" ]] || fail "$advert loss $i: EC2 routes to $(ha_route_owner)"
    stream_end
    SURVIVED+=("$STREAM_SURVIVED")
    GAPS+=("$STREAM_GAP")
    # natd's part, and keepalived's detection before it: since_usec is
    # the master notify (natd's status gives it on the realtime clock).
    since=$(ha_field "$STANDBY" high_availability.last_transition.since_usec)
    takeover=$(ha_field "$STANDBY" high_availability.last_transition.duration_usec)
    takeover=$((takeover / 1000))
    detect=$((since / 1000 - t_loss))
    ((detect > 0 && detect < 30000)) || fail "$advert loss $i: loss -> master notify of $detect ms (since_usec $since)"
    TAKEOVERS+=("$takeover")
    DETECTS+=("$detect")
    info "$advert loss $i: nat$ACTIVE lost -> egress through nat$STANDBY after ${RECOVERED[-1]} ms (keepalived's detection $detect ms, natd's takeover $takeover ms); stream survived: $STREAM_SURVIVED, longest gap $STREAM_GAP ms ($STREAM_RESULT; probe $probe)"
    # The lost one boots again and stands by; the next loss hits the other.
    ha_revive "$ACTIVE" "$(config_of "$ACTIVE")"
    wait_for 20 ha_is "$ACTIVE" standby ready ||
        fail "nat$ACTIVE back: not a ready standby: $WAITED"$'\n'"$(tail -n 25 "$T/keepalived$ACTIVE.log")"
    ha_is "$STANDBY" active ready || fail "nat$ACTIVE back: nat$STANDBY lost the role"
    local t=$ACTIVE
    ACTIVE=$STANDBY STANDBY=$t
}

note "loss = links of the active NAT down, then every process in its namespace killed (as tests/integration/ha-pair.sh); $LOSSES loss(es) per advertisement interval, alternating nat1 (priority 150) and nat2 (100); $(nproc) CPUs, kernel $(uname -r), keepalived $(keepalived --version 2>&1 | head -n 1 | awk '{print $2}'), conntrackd $(conntrackd -v 2>&1 | grep -o -m 1 'v[0-9][0-9.]*[0-9]' | head -n 1)"
note "advert_<interval>_p50_ms/_max_ms = loss -> the first answer from the Elastic IP to a new connection (one attempted every 10 ms, each abandoned after 300 ms); detect_ms = loss -> keepalived's master notify on the standby; takeover_ms = that notify -> natd's takeover confirmed by EC2 and IMDS (the data path flows before the confirmation, so recovery < detect + takeover is possible)"
[[ -z $QUICK ]] || note "--quick: a smoke run (one loss), not figures to quote"
for advert in "${ADVERTS[@]}"; do
    case $advert in
        1s) key=advert_1s target=3000 ;;
        *) key=advert_$advert target=1000 ;;
    esac
    phase_start "$advert"
    RECOVERED=() SURVIVED=() GAPS=() TAKEOVERS=() DETECTS=()
    for ((i = 1; i <= LOSSES; i++)); do one_loss "$advert" "$i"; done
    stats "$key" "<=$target" "${RECOVERED[@]}"
    survived=0
    for s in "${SURVIVED[@]}"; do survived=$((survived + s)); done
    result "${key}_streams_survived" "$survived" count higher ">=$LOSSES"
    stats "${key}_stream_gap" "<=$target" "${GAPS[@]}"
    stats "${key}_detect" - "${DETECTS[@]}"
    stats "${key}_takeover" - "${TAKEOVERS[@]}"
    note "$key recovery_ms each: ${RECOVERED[*]}; stream gaps: ${GAPS[*]}; detect: ${DETECTS[*]}; takeover: ${TAKEOVERS[*]}"
done
pass "failover benchmark: ${#ADVERTS[@]} advertisement interval(s) x $LOSSES loss(es)"
