#!/usr/bin/env bash
# natd-ctl against a running natd on a private D-Bus system bus (with natd's
# own bus policy, systemd/io.natd1.conf), without systemd-networkd (natd
# installs the return routes itself):
#   a. natd started before the private ENI exists: status says "waiting" and
#      for what (exit 1), in JSON and in words;
#   b. READY: status shows the ENIs, the routes, the table, forwarding and
#      natd's files (exit 0); traffic moves natd's counters in --json;
#   c. natd stopped (SIGTERM): exit 3, natd-ctl's own look at the kernel, and
#      the NAT still works;
#   d. reload (a new subnet, then a broken configuration: FILE:LINE, the
#      running configuration kept), reapply, and a repair counted;
#   e. an unprivileged user may read the status but not reload or reapply;
#   f. timing figures (natd-ctl status latency, reload -> route);
#   g. Introspect on /io/natd1, as root and as nobody, answers the io.natd1.*
#      interfaces of doc/io.natd1.xml (members, signatures, property access,
#      annotations; compared parsed, by introspection.py).
# They run in the order a, b, e, g, f, d, c (one natd until c stops it). The
# JSON is checked against doc/natd-ctl-status-json.txt at every step.
# Usage: status.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
#        (natd-ctl defaults to the one next to natd)
set -euo pipefail
# shellcheck source=tests/integration/networkd-lib.sh
source "$(dirname "$0")/networkd-lib.sh"

nd_init integration.status "${1:-}"
NATD_CTL=${2:-$(dirname "$NATD")/natd-ctl}
[[ -x $NATD_CTL ]] || fail "natd-ctl binary '$NATD_CTL' does not exist or is not executable"
NATD_CTL=$(realpath "$NATD_CTL")
command -v setpriv >/dev/null || fail "'setpriv' is missing (package util-linux)"
SJ="$PY $INTEG_DIR/status-json.py"
CONF=etc/natd/natd.conf
SYSCTL_FILE=$ROOT/etc/sysctl.d/90-natd.conf
DROPIN=$ROOT/etc/systemd/network/70-$PRIV_DEV.network.d/natd.conf

# sj CMD ARGS...: status-json.py on the last natd-ctl output ($CTL_OUT).
sj() {
    $SJ "$@" <<<"$CTL_OUT"
}

# status_json WHAT RC [--as USER]: natd-ctl status --json, exit RC, and the
# object has every documented key with its documented type.
status_json() {
    local what=$1 rc=$2 out
    shift 2
    natd_ctl_expect "$rc" "$what" "$@" --root "$ROOT" status --json
    out=$(sj validate 2>&1) ||
        fail "$what: natd-ctl status --json does not follow doc/natd-ctl-status-json.txt: $out"$'\n'"$CTL_OUT"
}

# expect_json WHAT PATH=JSON...: on the last status.
expect_json() {
    local what=$1 out
    shift
    out=$(sj expect "$@" 2>&1) || fail "$what: $out"$'\n'"natd-ctl status --json:"$'\n'"$CTL_OUT"
}

# expect_text WHAT PATTERN...: each extended regexp matches a line of the
# last natd-ctl stdout.
expect_text() {
    local what=$1 p
    shift
    for p in "$@"; do
        grep -Eq -- "$p" <<<"$CTL_OUT" ||
            fail "$what: natd-ctl status does not show /$p/:"$'\n'"$CTL_OUT"
    done
}

# files_json: the files natd's record lists, as status --json must show them
# (sorted).
files_json() {
    printf '["%s", "%s"]' "$SYSCTL_FILE" "$DROPIN"
}

# files_shown: the files in the last status --json, sorted.
files_shown() {
    sj get files | $PY -c 'import json, sys; print(json.dumps(sorted(json.load(sys.stdin))))'
}

# route_shown DEST: the last status --json has DEST via $PRIV_GW present.
route_shown() {
    natd_ctl status --json
    sj routes | grep -qx "$1 via $PRIV_GW present" || { sj routes; return 1; }
}

vpc_create card
write_config "$CONF" <<EOF
# natd integration test ($TEST_NAME)
[Interfaces]
WaitTimeoutSec=60s

[Routes]
Subnets=$SUBNETS
EOF
boot_prepare  # an empty /run/systemd/netif under --root: no networkd here
dbus_start

# --- a. waiting for the private ENI -----------------------------------------
natd_start
wait_until 10 natd_on_bus_api || fail "natd did not own io.natd1 on the bus within 10s: $WAIT_OUT"
natd_settle "the private ENI"

status_json "a. before the private ENI exists" 1
expect_json "a. before the private ENI exists" reachable=true state='"waiting"' \
    nftables.present=false public.name="\"$PUB_DEV\"" private.name=null \
    private.selector='"device-number-1"'
waiting=$(sj get waiting_for)
[[ $waiting != '[]' ]] || fail "a. state waiting but waiting_for is empty:"$'\n'"$CTL_OUT"
[[ $waiting == *private* && $waiting == *device-number-1* ]] ||
    fail "a. waiting_for does not name the private interface (device-number-1): $waiting"
pass "a. natd-ctl status --json: exit 1, state waiting, waiting_for $waiting"

natd_ctl_expect 1 "a. human status" status
expect_text "a. human status" '^ *State: waiting' '^ *Waiting for: .*private.*device-number-1'
pass "a. natd-ctl status: exit 1, $(grep -E 'State:' <<<"$CTL_OUT" | sed 's/^ *//'); $(grep -E 'Waiting for:' <<<"$CTL_OUT" | sed 's/^ *//')"
info "natd-ctl status (waiting):"
sed 's/^/    /' "$T/ctl.out"

# The ENI without its altname yet: still waiting for it.
eni_plug
status_json "a. ENI attached, no altname yet" 1
expect_json "a. ENI attached, no altname yet" state='"waiting"' private.name=null
waiting=$(sj get waiting_for)
[[ $waiting == *device-number-1* ]] ||
    fail "a. with $PRIV_DEV there but without its altname, waiting_for does not name device-number-1: $waiting"
pass "a. $PRIV_DEV attached without altname: still waiting, for $waiting"

# --- b. ready -------------------------------------------------------------
eni_name card
natd_wait_ready
timing "altname added -> READY=1" $((READY_MS - ENI_ALTNAME_MS))

status_json "b. READY" 0
expect_json "b. READY" reachable=true state='"ready"' waiting_for='[]' \
    public.name="\"$PUB_DEV\"" private.name="\"$PRIV_DEV\"" \
    public.selector='"device-number-0"' private.selector='"device-number-1"' \
    private.mac="\"$PRIV_MAC\"" public.addresses="[\"$PUB_IP/24\"]" \
    private.addresses="[\"$PRIV_IP/24\"]" \
    nftables.present=true nftables.verified=true forwarding=true \
    repairs=0 last_repair_usec=null route_owner='"natd"' warnings='[]'
[[ $(files_shown) == "$(files_json)" ]] || fail "b. files in status --json: $(sj get files), expected $(files_json)"
routes=$(sj routes)
want_routes=$(for n in "${HOST_NETS[@]}"; do echo "10.0.$n.0/24 via $PRIV_GW present"; done)
[[ $routes == "$want_routes" ]] ||
    fail "b. routes[] in status --json:"$'\n'"$routes"$'\n'"expected (no route for the ENI's own 10.0.1.0/24):"$'\n'"$want_routes"
for iface in public private; do
    ifindex=$(sj get "$iface.ifindex")
    name=$(sj get "$iface.name")
    kernel_ifindex=$(ip -n "$NS_NAT" -j link show "$name" | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])')
    [[ $ifindex == "$kernel_ifindex" ]] || fail "b. $iface.ifindex is $ifindex, the kernel says $name is $kernel_ifindex"
    [[ $(sj get "$iface.operstate") == up ]] || fail "b. $iface.operstate is $(sj get "$iface.operstate"), expected up"
done
since=$(sj get since_usec)
((since / 1000 >= ENI_ALTNAME_MS - 5 && since / 1000 <= READY_MS + 5)) ||
    fail "b. since_usec $since is not between the altname ($ENI_ALTNAME_MS ms) and READY=1 ($READY_MS ms)"
roles=$(sj get nftables.counters | $PY -c 'import json,sys; print(" ".join(sorted({c["role"] for c in json.load(sys.stdin)})))')
[[ $roles == "clamp-mss drop-hairpin drop-in drop-invalid drop-other drop-out forward-out masquerade return-in" ]] ||
    fail "b. nftables.counters has the roles '$roles', expected clamp-mss drop-hairpin drop-in drop-invalid drop-other drop-out forward-out masquerade return-in"
ct=$(sj get conntrack)
[[ $ct =~ \"count\":\ [0-9]+,\ \"max\":\ [0-9]+ ]] || fail "b. conntrack is $ct, expected two numbers"
pass "b. natd-ctl status --json: exit 0, ready since READY=1, $PUB_DEV/$PRIV_DEV, routes ${routes//$'\n'/; }, table present+verified, forwarding, repairs 0, files $(files_json), conntrack $ct"

natd_ctl_expect 0 "b. human status" status
expect_text "b. human status" '^ *State: ready' "^ *Public: device-number-0 → $PUB_DEV " \
    "^ *Private: device-number-1 → $PRIV_DEV .*$PRIV_MAC.*$PRIV_IP/24" \
    '^ *Forwarding: on' '^ *nftables: table ip natd verified' \
    "^ *Files: $SYSCTL_FILE\$" "^ *$DROPIN\$" '^ *Repairs: 0$'
for n in "${HOST_NETS[@]}"; do
    expect_text "b. human status" "10\\.0\\.$n\\.0/24 via ${PRIV_GW//./\\.} present"
done
pass "b. natd-ctl status: exit 0, state ready, $PUB_DEV, $PRIV_DEV, every route present, forwarding on, both files"
info "natd-ctl status (ready):"
sed 's/^/    /' "$T/ctl.out"

# Traffic moves the counters natd-ctl shows; they are the kernel's.
natd_ctl status --json
masq0=$(sj packets masquerade) fwd0=$(sj packets forward-out) ret0=$(sj packets return-in)
check_egress " (counters)"
natd_ctl status --json
masq1=$(sj packets masquerade) fwd1=$(sj packets forward-out) ret1=$(sj packets return-in)
nft_masq=$(nft_counter masquerade)
((nft_masq == masq1)) || fail "b. status --json says masquerade $masq1 packets, nft says $nft_masq"
hosts=${#HOST_NETS[@]}
((masq1 >= masq0 + hosts)) ||
    fail "b. masquerade packets in status --json went $masq0 -> $masq1 after $hosts connections"
((fwd1 >= fwd0 + 3 * hosts)) ||
    fail "b. forward-out packets in status --json went $fwd0 -> $fwd1 after $hosts HTTP exchanges"
((ret1 > ret0)) || fail "b. return-in packets in status --json went $ret0 -> $ret1 after $hosts HTTP exchanges"
pass "b. status --json counters: masquerade $masq0 -> $masq1, forward-out $fwd0 -> $fwd1, return-in $ret0 -> $ret1 (nft agreed: $nft_masq)"
drop0=$(sj packets drop-in)
check_inbound_blocked
natd_ctl status --json
drop1=$(sj packets drop-in)
((drop1 > drop0)) || fail "b. drop-in packets in status --json went $drop0 -> $drop1 after a blocked inbound connection"
pass "b. status --json drop-in counter $drop0 -> $drop1"

# --- e. an unprivileged user ---------------------------------------------
# (Before d.: with natd's first configuration.) The bus socket must be
# reachable for the user: the scratch directories are 0700.
chmod o+x "$T" "$BOOT_DIR" "$BOOT_DIR/dbus"
# shellcheck disable=SC2016 # expands in the inner shell
nobody_can_run() { setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c 'test -x "$1"' - "$1"; }
if ! nobody_can_run "$NATD_CTL"; then
    # A build tree below a 0700 directory (mktemp -d): the same binary,
    # from where nobody may run it.
    install -m 0755 "$NATD_CTL" "$T/natd-ctl"
    info "e. nobody cannot reach $NATD_CTL (a directory above it is not searchable): using a copy in $T"
    NATD_CTL=$T/natd-ctl
fi
nobody_can_run "$NATD_CTL" || fail "e. nobody cannot execute $NATD_CTL"
status_json "e. status as nobody" 0 --as nobody
expect_json "e. status as nobody" reachable=true state='"ready"' private.name="\"$PRIV_DEV\"" \
    nftables.verified=true
[[ $(sj get nftables.counters) != '[]' ]] || fail "e. nobody sees no counters (io.natd1.Diagnostic is open to every user)"
pass "e. nobody: natd-ctl status --json exits 0, state ready, counters shown"
natd_ctl_expect 0 "e. human status as nobody" --as nobody status
expect_text "e. human status as nobody" '^ *State: ready'
for method in reload reapply; do
    natd_ctl --as nobody "$method"
    ((CTL_RC != 0)) || fail "e. natd-ctl $method as nobody exited 0; only root may call natd's methods"
    # (dbus-daemon's AccessDenied says "Rejected send message, N matched rules".)
    grep -Eiq 'access.?denied|not allowed|permission|Rejected send message' <<<"$CTL_ERR" ||
        fail "e. natd-ctl $method as nobody failed (exit $CTL_RC) but does not say access was denied: $CTL_ERR"
    pass "e. natd-ctl $method as nobody: exit $CTL_RC, $CTL_ERR"
done
natd_alive || fail "e. natd exited after the denied calls"

# --- g. introspection ------------------------------------------------------
BUS_XML=$INTEG_DIR/../../doc/io.natd1.xml
for who in root nobody; do
    as=()
    [[ $who == root ]] || as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    xml=$("${as[@]}" busctl --timeout=5 --xml-interface introspect io.natd1 /io/natd1 2>&1) ||
        fail "g. busctl introspect io.natd1 /io/natd1 as $who failed: $xml"
    out=$($PY "$INTEG_DIR/introspection.py" "$BUS_XML" <<<"$xml" 2>&1) ||
        fail "g. natd's introspection (as $who) differs from doc/io.natd1.xml:"$'\n'"$out"$'\n'"natd answered:"$'\n'"$xml"
    pass "g. Introspect as $who: $out"
done

# --- f. timing ------------------------------------------------------------
lat=()
for _ in $(seq 20); do
    natd_ctl status --json
    ((CTL_RC == 0)) || fail "f. natd-ctl status --json exited $CTL_RC: $CTL_ERR"
    lat+=("$CTL_MS")
done
read -r lmin lmed lmax < <(printf '%s\n' "${lat[@]}" | sort -n | awk '{a[NR]=$1} END {print a[1], a[int((NR+1)/2)], a[NR]}')
t0=0 t1=0
now_ms t0
ip netns exec "$NS_NAT" true
now_ms t1
timing "natd-ctl status --json, 20 calls: min/median/max $lmin/$lmed/$lmax (ip netns exec alone: $((t1 - t0)))" "$lmed"
natd_ctl status
timing "natd-ctl status (human), one call" "$CTL_MS"
natd_ctl --as nobody status --json
timing "natd-ctl status --json as nobody, one call" "$CTL_MS"

# --- d. reload, reapply, repair -----------------------------------------
echo "Subnets=10.0.4.0/24" >>"$ROOT/$CONF"
natd_ctl_expect 0 "d. reload with a new subnet" reload
reload_ms=$CTL_MS
pass "d. natd-ctl reload (Subnets=10.0.4.0/24 added): exit 0, $CTL_OUT"
now_ms t0
natd_ctl status --json
if sj routes | grep -qx "10.0.4.0/24 via $PRIV_GW present"; then
    info "d. the new route was in status at the first look after reload returned"
else
    info "d. right after reload returned, status showed: $(sj routes | tr '\n' ';') (state $(sj get state))"
    wait_until 10 route_shown 10.0.4.0/24 ||
        fail "d. 10.0.4.0/24 via $PRIV_GW not present in status 10s after reload: $WAIT_OUT"
fi
now_ms t1
timing "natd-ctl reload (call)" "$reload_ms"
timing "reload returned -> new route present in status" $((t1 - t0))
status_json "d. after reload" 0
expect_json "d. after reload" state='"ready"' nftables.verified=true
ip -n "$NS_NAT" -4 route show 10.0.4.0/24 | grep -q "via $PRIV_GW dev $PRIV_DEV" ||
    fail "d. status shows 10.0.4.0/24 present but the kernel has: $(ip -n "$NS_NAT" -4 route show 10.0.4.0/24)"
grep -q '^Destination=10.0.4.0/24$' "$DROPIN" || fail "d. the drop-in does not have 10.0.4.0/24:"$'\n'"$(cat "$DROPIN")"
pass "d. after reload: ready, routes $(sj routes | tr '\n' ';'); the kernel and the drop-in have 10.0.4.0/24"

# Broken: an invalid CIDR on a known line of the main file, then in a drop-in.
good_conf=$(cat "$ROOT/$CONF")
echo "Subnets=10.0.5.0/33" >>"$ROOT/$CONF"
bad_line=$(wc -l <"$ROOT/$CONF")
natd_ctl reload
((CTL_RC != 0)) || fail "d. natd-ctl reload with Subnets=10.0.5.0/33 exited 0"
grep -Fq "$ROOT/$CONF:$bad_line" <<<"$CTL_ERR" ||
    fail "d. natd-ctl reload with a broken line $bad_line: the error does not name $ROOT/$CONF:$bad_line: $CTL_ERR"
pass "d. broken reload: exit $CTL_RC, $CTL_ERR"
printf '%s\n' "$good_conf" >"$ROOT/$CONF"
mkdir -p "$ROOT/$CONF.d"
printf '# drop-in\n[Routes]\nGateway=10.0.1.1\nBogusKey=1\n' >"$ROOT/$CONF.d/50-test.conf"
natd_ctl reload
((CTL_RC != 0)) || fail "d. natd-ctl reload with an unknown key in a drop-in exited 0"
grep -Fq "$ROOT/$CONF.d/50-test.conf:4" <<<"$CTL_ERR" ||
    fail "d. natd-ctl reload with an unknown key on line 4 of a drop-in: the error does not name $ROOT/$CONF.d/50-test.conf:4: $CTL_ERR"
pass "d. broken drop-in: exit $CTL_RC, $CTL_ERR"
natd_alive || fail "d. natd exited after a broken reload"
status_json "d. after the broken reloads" 0
expect_json "d. after the broken reloads" state='"ready"' nftables.verified=true
sj routes | grep -qx "10.0.4.0/24 via $PRIV_GW present" ||
    fail "d. after a refused reload the running configuration's route 10.0.4.0/24 is gone from status: $(sj routes)"
ip -n "$NS_NAT" -4 route show 10.0.5.0/24 | grep -q . && fail "d. a route to 10.0.5.0/24 appeared after a refused reload"
pass "d. after the refused reloads natd still runs, ready, with the old configuration ($(sj routes | tr '\n' ';'))"

# Reapply with the broken drop-in still on disk: the running plan, again.
natd_ctl_expect 0 "d. reapply" reapply
timing "natd-ctl reapply (call)" "$CTL_MS"
pass "d. natd-ctl reapply: exit 0, $CTL_OUT"
status_json "d. after reapply" 0
expect_json "d. after reapply" state='"ready"' nftables.verified=true forwarding=true repairs=0
sj routes | grep -qx "10.0.4.0/24 via $PRIV_GW present" || fail "d. after reapply: $(sj routes)"
pass "d. after reapply: ready, $(sj routes | tr '\n' ';')"
rm "$ROOT/$CONF.d/50-test.conf"

# Someone deletes a return route: natd puts it back and counts a repair.
ip -n "$NS_NAT" route del 10.0.3.0/24
# shellcheck disable=SC2317 # called through wait_until
repaired() {
    natd_ctl status --json
    if ! sj expect state='"ready"' repairs=1 || ! route_shown 10.0.3.0/24; then
        echo "$CTL_OUT"
        return 1
    fi
}
wait_until 10 repaired || fail "d. 10s after deleting 10.0.3.0/24 status does not show it repaired (repairs 1):"$'\n'"$WAIT_OUT"
natd_ctl status --json  # (wait_until ran natd_ctl in a subshell)
last=$(sj get last_repair_usec)
[[ $last =~ ^[0-9]+$ ]] || fail "d. repairs 1 but last_repair_usec is $last"
pass "d. a deleted route is repaired: repairs 1, last_repair_usec $last, $(sj routes | tr '\n' ';')"
natd_ctl_expect 0 "d. human status after the repair" status
expect_text "d. human status after the repair" '^ *Repairs: 1, last '

# --- c. natd stopped --------------------------------------------------------
natd_ctl status --json
files_ready=$(files_shown)
natd_stop
status_json "c. natd stopped" 3
expect_json "c. natd stopped" reachable=false state='"unreachable"' nftables.present=true \
    forwarding=true
[[ $(files_shown) == "$files_ready" ]] ||
    fail "c. with natd stopped, natd-ctl --root lists the files $(files_shown), natd listed $files_ready"
routes=$(sj routes)
want_routes=$(for n in 10.0.2 10.0.3 10.0.4; do echo "$n.0/24 via $PRIV_GW present"; done)
[[ $routes == "$want_routes" ]] ||
    fail "c. with natd stopped, routes[] (natd-ctl's look at the kernel, proto $NATD_PROTO):"$'\n'"$routes"$'\n'"expected:"$'\n'"$want_routes"
masq2=$(sj packets masquerade)
pass "c. natd stopped: status --json exits 3, reachable false, table present, forwarding on, routes ${routes//$'\n'/; }, files as before (stderr: $CTL_ERR)"
timing "natd-ctl status --json with natd stopped (kernel probe)" "$CTL_MS"
natd_ctl_expect 3 "c. human status, natd stopped" --root "$ROOT" status
expect_text "c. human status, natd stopped" '^ *State: unreachable' 'not running or not reachable' \
    '^ *Forwarding: on' '^ *nftables: table ip natd present'
pass "c. natd-ctl status with natd stopped: exit 3, 'unreachable', 'not running or not reachable'"
info "natd-ctl status (natd stopped):"
sed 's/^/    /' "$T/ctl.out"
check_egress " (natd stopped)"
natd_ctl status --json
(($(sj packets masquerade) > masq2)) || fail "c. with natd stopped, the masquerade counter natd-ctl reads did not move"
pass "c. with natd stopped natd-ctl still reads the counters: masquerade $masq2 -> $(sj packets masquerade)"
# No bus at all: the same.
saved_bus=$DBUS_SYSTEM_BUS_ADDRESS
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-bus/system_bus_socket"
status_json "c. no system bus" 3
expect_json "c. no system bus" reachable=false nftables.present=true forwarding=true
DBUS_SYSTEM_BUS_ADDRESS=$saved_bus
pass "c. no system bus: status exits 3 with the kernel's view"
for method in reload reapply; do
    natd_ctl "$method"
    ((CTL_RC != 0)) || fail "c. natd-ctl $method with natd stopped exited 0"
    pass "c. natd-ctl $method with natd stopped: exit $CTL_RC, $CTL_ERR"
done
