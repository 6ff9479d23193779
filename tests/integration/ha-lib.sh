# shellcheck shell=bash
# The simulated HA VPC (sourced after lib.sh): two NAT instances on one
# public and one private segment, as an active/standby pair would sit in
# one Availability Zone.
#
#   host 10.0.2.10 -- vpc router 10.0.2.1 / 10.0.1.1 (default route: the
#                     active NAT's private ENI, moved by the fake EC2 API)
#   private segment (bridge) 10.0.1.0/24: nat1 ens6 .11, nat2 ens6 .12
#   public segment (bridge)  10.0.0.0/24: nat1 ens5 .11, nat2 ens5 .12,
#                     the floating address 10.0.0.20 on the active one,
#                     igw 10.0.0.1 (also the fake EC2 API, port 8080)
#   igw: the Elastic IP 203.0.113.50 <-> 10.0.0.20, 1:1, to
#   inet 198.51.100.10 (echo-ip server on 80, stream server on 5000)
#   each NAT: its own fake IMDS at 169.254.169.254 (region, role
#   credentials, both ENIs by MAC), its own private system bus.
#
# ha_lab_create sets NS_NAT1 NS_NAT2 NS_VPC NS_HOST NS_IGW NS_INET, and
# HA_EC2_URL HA_RTB HA_FLOATING HA_EIP, the ENI ids ENI_PUB1 ENI_PRIV1
# ENI_PUB2 ENI_PRIV2, and per instance N: $T/imdsN-control.json,
# $T/busN.sock once ha_bus_start N ran.

HA_FLOATING=10.0.0.20
HA_EIP=203.0.113.50
HA_RTB=rtb-0000000000000c001
HA_EC2_URL=http://10.0.0.1:8080
HA_INET_IP=198.51.100.10
ENI_PUB1=eni-0000000000000a105 ENI_PRIV1=eni-0000000000000a106
ENI_PUB2=eni-0000000000000b105 ENI_PRIV2=eni-0000000000000b106
HA_DBUS_POLICY=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/systemd/io.natd1.conf

# ha_init TEST-NAME NATD [NATD-CTL]: lib_init, natd-ctl (default: next to
# natd) and the engines the pair runs on.
ha_init() {
    lib_init "$1" "$2"
    NATD_CTL=${3:-$(dirname "$NATD")/natd-ctl}
    [[ -x $NATD_CTL ]] || fail "natd-ctl '$NATD_CTL' is not executable"
    NATD_CTL=$(realpath "$NATD_CTL")
    local tool
    for tool in keepalived conntrackd dbus-daemon; do
        command -v "$tool" >/dev/null || fail "'$tool' is missing: run tests/install-deps.sh"
    done
}

# ha_veth NS-A NAME-A NS-B NAME-B [MAC-A]: a veth pair, both ends up.
ha_veth() {
    ip link add name "$2" ${5:+address "$5"} netns "$1" type veth peer name "$4" netns "$3"
    ip -n "$1" link set "$2" up
    ip -n "$3" link set "$4" up
}

# ha_imds_create N METADATA-JSON: instance N's fake IMDS, reachable from
# its NAT at 169.254.169.254.
ha_imds_create() {
    local n=$1 ns=${PFX}imds$1 nat
    nat=NS_NAT$1
    new_ns "$ns"
    ha_veth "${!nat}" imds0 "$ns" eth0
    ip -n "${!nat}" addr add 169.254.0.1/16 dev imds0
    ip -n "$ns" addr add 169.254.169.254/16 dev eth0
    printf '{}\n' >"$T/imds$n-control.json"
    ip netns exec "$ns" "$PY" "$INTEG_DIR/fake-imds.py" --metadata "$2" \
        --control "$T/imds$n-control.json" --log "$T/imds$n.log" --ready "$T/imds$n.ready" \
        --lifetime "$HELPER_LIFETIME" >"$T/imds$n.out" 2>&1 &
    local _
    for _ in $(seq 100); do [[ -s $T/imds$n.ready ]] && break; sleep 0.05; done
    [[ -s $T/imds$n.ready ]] || fail "fake IMDS $n did not start: $(cat "$T/imds$n.out")"
}

# ha_metadata N: instance N's metadata (both ENIs, region, role credentials).
ha_metadata() {
    local n=$1 pub priv later
    pub=ENI_PUB$n priv=ENI_PRIV$n
    later=$(date -u -d '+6 hours' +%Y-%m-%dT%H:%M:%SZ)
    local creds
    creds=$("$PY" -c 'import json,sys; print(json.dumps(json.dumps({"Code": "Success", "LastUpdated": "2026-12-03T10:00:00Z", "Type": "AWS-HMAC", "AccessKeyId": sys.argv[1], "SecretAccessKey": "secret-" + sys.argv[1], "Token": "token-" + sys.argv[1], "Expiration": sys.argv[2]})))' "ASIANAT$n" "$later")
    cat <<EOF
{"instance-id": "i-000000000000000$n", "mac": "0a:00:00:00:0$n:05",
 "enis": {
  "0a:00:00:00:0$n:05": {"device-number": "0", "network-card": "0", "interface-id": "${!pub}",
    "subnet-ipv4-cidr-block": "10.0.0.0/24", "vpc-ipv4-cidr-blocks": "10.0.0.0/16",
    "local-ipv4s": "10.0.0.1$n"},
  "0a:00:00:00:0$n:06": {"device-number": "1", "network-card": "0", "interface-id": "${!priv}",
    "subnet-ipv4-cidr-block": "10.0.1.0/24", "vpc-ipv4-cidr-blocks": "10.0.0.0/16",
    "local-ipv4s": "10.0.1.1$n"}},
 "items": {"placement/region": "eu-west-1",
           "iam/security-credentials/": "natd-ha-role",
           "iam/security-credentials/natd-ha-role": $creds}}
EOF
}

ha_lab_create() {
    NS_SW=${PFX}sw NS_NAT1=${PFX}nat1 NS_NAT2=${PFX}nat2 NS_IGW=${PFX}igw
    NS_INET=${PFX}inet NS_VPC=${PFX}vpc NS_HOST=${PFX}host
    local ns n
    for ns in "$NS_SW" "$NS_NAT1" "$NS_NAT2" "$NS_IGW" "$NS_INET" "$NS_VPC" "$NS_HOST"; do
        new_ns "$ns"
    done
    ip -n "$NS_SW" link add br-pub type bridge
    ip -n "$NS_SW" link add br-priv type bridge
    ip -n "$NS_SW" link set br-pub up
    ip -n "$NS_SW" link set br-priv up
    # sw_port NS NAME PORT BRIDGE [MAC]: NAME in NS, plugged into BRIDGE.
    sw_port() {
        ha_veth "$1" "$2" "$NS_SW" "$3" "${5:-}"
        ip -n "$NS_SW" link set "$3" master "$4"
    }
    for n in 1 2; do
        ns=NS_NAT$n
        sw_port "${!ns}" ens5 "n$n-pub" br-pub "0a:00:00:00:0$n:05"
        sw_port "${!ns}" ens6 "n$n-priv" br-priv "0a:00:00:00:0$n:06"
        ip -n "${!ns}" addr add "10.0.0.1$n/24" dev ens5
        ip -n "${!ns}" addr add "10.0.1.1$n/24" dev ens6
        ip -n "${!ns}" link property add dev ens5 altname device-number-0.0
        ip -n "${!ns}" link property add dev ens6 altname device-number-1.0
        ip -n "${!ns}" route add default via 10.0.0.1
        ip netns exec "${!ns}" sysctl -q -w net.ipv4.ip_forward=0
    done
    # The internet gateway: the Elastic IP maps 1:1 to the floating address.
    sw_port "$NS_IGW" igw-pub igw-pub br-pub
    ip -n "$NS_IGW" addr add 10.0.0.1/24 dev igw-pub
    ha_veth "$NS_IGW" igw-inet "$NS_INET" eth0
    ip -n "$NS_IGW" addr add 198.51.100.1/24 dev igw-inet
    ip -n "$NS_INET" addr add "$HA_INET_IP/24" dev eth0
    ip -n "$NS_INET" route add 203.0.113.0/24 via 198.51.100.1
    ip netns exec "$NS_IGW" sysctl -q -w net.ipv4.ip_forward=1
    ip netns exec "$NS_IGW" nft -f - <<EOF
table ip igw {
    chain pre {
        type nat hook prerouting priority dstnat;
        iifname "igw-inet" ip daddr $HA_EIP dnat to $HA_FLOATING
    }
    chain post {
        type nat hook postrouting priority srcnat;
        oifname "igw-inet" ip saddr $HA_FLOATING snat to $HA_EIP
    }
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        oifname "igw-inet" ip saddr $HA_FLOATING accept
    }
}
EOF
    # The VPC router and the private subnet's host.
    sw_port "$NS_VPC" vpc-priv vpc-priv br-priv
    ip -n "$NS_VPC" addr add 10.0.1.1/24 dev vpc-priv
    ha_veth "$NS_VPC" vpc-host "$NS_HOST" eth0
    ip -n "$NS_VPC" addr add 10.0.2.1/24 dev vpc-host
    ip -n "$NS_HOST" addr add 10.0.2.10/24 dev eth0
    ip -n "$NS_HOST" route add default via 10.0.2.1
    ip netns exec "$NS_VPC" sysctl -q -w net.ipv4.ip_forward=1
    ip -n "$NS_VPC" route add default via 10.0.1.11

    for n in 1 2; do
        ha_metadata "$n" >"$T/metadata$n.json"
        ha_imds_create "$n" "$T/metadata$n.json"
    done

    # The fake EC2 API, and the hook that moves the lab with it.
    cat >"$T/ec2-state.json" <<EOF
{"route_tables": {"$HA_RTB": {"0.0.0.0/0": "$ENI_PRIV1"}},
 "enis": {"$ENI_PUB1": ["10.0.0.11"], "$ENI_PRIV1": ["10.0.1.11"],
          "$ENI_PUB2": ["10.0.0.12"], "$ENI_PRIV2": ["10.0.1.12"]}}
EOF
    cat >"$T/ec2-keys.json" <<EOF
{"ASIANAT1": {"secret": "secret-ASIANAT1", "token": "token-ASIANAT1"},
 "ASIANAT2": {"secret": "secret-ASIANAT2", "token": "token-ASIANAT2"}}
EOF
    cat >"$T/lab-map.json" <<EOF
{"$ENI_PRIV1": {"address": "10.0.1.11"}, "$ENI_PRIV2": {"address": "10.0.1.12"},
 "$ENI_PUB1": {"mac": "0a:00:00:00:01:05", "primary": "10.0.0.11", "control": "$T/imds1-control.json"},
 "$ENI_PUB2": {"mac": "0a:00:00:00:02:05", "primary": "10.0.0.12", "control": "$T/imds2-control.json"}}
EOF
    printf '{}\n' >"$T/ec2-control.json"
    : >"$T/ec2.log"
    HA_LAB_MAP=$T/lab-map.json HA_EC2_STATE=$T/ec2-state.json HA_VPC_NS=$NS_VPC \
        ip netns exec "$NS_IGW" "$PY" "$INTEG_DIR/fake-ec2.py" --state "$T/ec2-state.json" \
        --credentials "$T/ec2-keys.json" --region eu-west-1 --control "$T/ec2-control.json" \
        --log "$T/ec2.log" --ready "$T/ec2.ready" --address 10.0.0.1 --port 8080 \
        --hook "$INTEG_DIR/ha-ec2-hook.py" --lifetime "$HELPER_LIFETIME" >"$T/ec2.out" 2>&1 &
    local _
    for _ in $(seq 100); do [[ -s $T/ec2.ready ]] && break; sleep 0.05; done
    [[ -s $T/ec2.ready ]] || fail "fake-ec2.py did not start: $(cat "$T/ec2.out")"

    start_server "$NS_INET" internet
    ip netns exec "$NS_INET" "$PY" "$INTEG_DIR/stream-probe.py" server "$HA_INET_IP" 5000 \
        "$T/stream.server.pid" "$HELPER_LIFETIME"
    info "HA VPC built: nat1/nat2 10.0.0.11/.12 (public), 10.0.1.11/.12 (private), floating $HA_FLOATING = Elastic IP $HA_EIP, host 10.0.2.10, fake EC2 $HA_EC2_URL"
}

# ha_bus_start N: instance N's private system bus at $T/busN.sock.
ha_bus_start() {
    local n=$1 ns
    ns=NS_NAT$n
    cat >"$T/bus$n.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=$T/bus$n.sock</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <include>$HA_DBUS_POLICY</include>
</busconfig>
EOF
    rm -f "$T/bus$n.sock"  # a killed bus leaves its socket
    ip netns exec "${!ns}" dbus-daemon --config-file="$T/bus$n.conf" --nofork \
        </dev/null >>"$T/bus$n.log" 2>&1 &
    local _
    for _ in $(seq 100); do [[ -S $T/bus$n.sock ]] && break; sleep 0.05; done
    [[ -S $T/bus$n.sock ]] || fail "bus $n: no socket $T/bus$n.sock"
}

# ha_natd_start N CONFIG-TEXT: natd of instance N, --root $T/rootN, on bus N.
ha_natd_start() {
    local n=$1 ns
    ns=NS_NAT$n
    mkdir -p "$T/root$n/etc/natd"
    printf '%s\n' "$2" >"$T/root$n/etc/natd/natd.conf"
    DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus$n.sock ip netns exec "${!ns}" \
        "$NATD" --root "$T/root$n" >"$T/natd$n.log" 2>&1 &
    printf '%s\n' "$!" >"$T/natd$n.pid"
}

# ha_engines_start N: conntrackd and keepalived of instance N on natd's
# files (once natd wrote them).
ha_engines_start() {
    local n=$1 ns dir=$T/root$1/run/natd/ha _
    ns=NS_NAT$n
    for _ in $(seq 200); do [[ -s $dir/keepalived.conf && -s $dir/conntrackd.conf ]] && break; sleep 0.05; done
    [[ -s $dir/keepalived.conf ]] || fail "natd $n did not write $dir/keepalived.conf: $(tail -n 20 "$T/natd$n.log")"
    # A killed conntrackd leaves its lock file and socket (the unit drop-in
    # removes them the same way).
    rm -f "$dir/conntrackd.lock" "$dir/conntrackd.ctl"
    ip netns exec "${!ns}" conntrackd -C "$dir/conntrackd.conf" -d >"$T/conntrackd$n.log" 2>&1 ||
        fail "conntrackd $n did not start: $(cat "$T/conntrackd$n.log")"
    rm -f "$T/keepalived$n.pid" "$T/keepalived$n-vrrp.pid"
    DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus$n.sock ip netns exec "${!ns}" keepalived \
        --dont-fork --log-console --log-detail --vrrp -f "$dir/keepalived.conf" \
        -p "$T/keepalived$n.pid" -r "$T/keepalived$n-vrrp.pid" >"$T/keepalived$n.log" 2>&1 &
}

# ha_ctl N ARGS...: natd-ctl of instance N; CTL_OUT, CTL_RC.
ha_ctl() {
    local n=$1 ns
    ns=NS_NAT$n
    shift
    CTL_RC=0
    # shellcheck disable=SC2034 # for the caller
    CTL_OUT=$(DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus$n.sock ip netns exec "${!ns}" \
        "$NATD_CTL" "$@" 2>&1) || CTL_RC=$?
    export CTL_RC
}

# ha_field N PATH: a value of instance N's natd-ctl status --json, e.g.
# high_availability.role.
ha_field() {
    ha_ctl "$1" status --json
    "$PY" -c 'import json,sys
v=json.loads(sys.stdin.read())
for k in sys.argv[1].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print(v if isinstance(v, str) else json.dumps(v))' "$2" <<<"$CTL_OUT"
}

# ha_is N ROLE STATE: instance N's pair role and natd state.
ha_is() {
    local role state
    role=$(ha_field "$1" high_availability.role)
    state=$(ha_field "$1" state)
    [[ $role == "$2" && $state == "$3" ]] ||
        { echo "nat$1: role $role, state $state: $(ha_field "$1" status) | $(ha_field "$1" high_availability.status)"; return 1; }
}

# ha_kill_instance N: instance N is lost as on EC2: its links down first
# (nothing it says afterwards leaves, not even keepalived's priority-0
# advertisement), then every process in its namespace killed.
ha_kill_instance() {
    local ns pid
    ns=NS_NAT$1
    ip -n "${!ns}" link set ens5 down
    ip -n "${!ns}" link set ens6 down
    for pid in $(ip netns pids "${!ns}"); do kill -KILL "$pid" 2>/dev/null || true; done
}

# ha_egress: what the echo server sees a new connection from the private
# host come from (empty: nothing answered within 0.5 s).
ha_egress() {
    ip netns exec "$NS_HOST" curl -s --max-time 0.5 "http://$HA_INET_IP/" 2>/dev/null || true
}

# wait_for SECONDS CMD...: CMD every 50 ms until it succeeds; its last
# output in WAITED.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    while :; do
        WAITED=$("$@" 2>&1) && return 0
        ((SECONDS < deadline)) || return 1
        sleep 0.05
    done
}

# ha_config PEER PRIORITY [MORE-LINES]: a pair member's natd.conf, with
# VRRP advertisements every $HA_ADVERT (default 200ms).
HA_ADVERT=${HA_ADVERT:-200ms}
ha_config() {
    cat <<EOF
[Routes]
Subnets=10.0.2.0/24
[HighAvailability]
Peer=$1
Priority=$2
FloatingAddress=$HA_FLOATING
RouteTables=$HA_RTB
AdvertisementIntervalSec=$HA_ADVERT
EC2Endpoint=$HA_EC2_URL
${3:-}
[Health]
Listen=0.0.0.0:8008
[Metrics]
Listen=0.0.0.0:8008
EOF
}

# ha_pair_start: buses, natd and engines of both; nat1 (priority 150)
# first, so it is active, nat2 (100) a standby. One after the other, as
# instances boot: with Preempt=no (the default) the first to claim the
# role keeps it, whatever the priorities.
ha_pair_start() {
    local n
    for n in 1 2; do ha_bus_start "$n"; done
    ha_natd_start 1 "$(ha_config 10.0.1.12 150)"
    ha_natd_start 2 "$(ha_config 10.0.1.11 100)"
    ha_engines_start 1
    wait_for 20 ha_is 1 active ready ||
        fail "nat1 did not become the ready active NAT: $WAITED"$'\n'"$(tail -n 30 "$T/natd1.log")"$'\n'"$(tail -n 20 "$T/keepalived1.log")"
    ha_engines_start 2
    wait_for 10 ha_is 2 standby ready ||
        fail "nat2 did not become a ready standby: $WAITED"$'\n'"$(tail -n 30 "$T/natd2.log")"
}

# ha_revive N CONFIG-TEXT: instance N, lost before (ha_kill_instance),
# comes back as a new boot would: links up, no floating address, an empty
# /run and conntrack table, then its bus, natd and engines.
ha_revive() {
    local n=$1 ns
    ns=NS_NAT$n
    ip -n "${!ns}" link set ens5 up
    ip -n "${!ns}" link set ens6 up
    ip -n "${!ns}" addr del "$HA_FLOATING/24" dev ens5 2>/dev/null || true
    ip -n "${!ns}" route replace default via 10.0.0.1  # the links' loss took it
    ip netns exec "${!ns}" conntrack -F >/dev/null 2>&1 || true
    rm -rf "$T/root$n/run"
    ha_bus_start "$n"
    ha_natd_start "$n" "$2"
    ha_engines_start "$n"
}

# ha_route_owner: the ENI the fake EC2's route table sends 0.0.0.0/0 to.
ha_route_owner() {
    "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["route_tables"][sys.argv[2]]["0.0.0.0/0"])' \
        "$T/ec2-state.json" "$HA_RTB"
}

# ha_health N QUERY: the HTTP code of instance N's GET /health[QUERY].
ha_health() {
    ip netns exec "${PFX}nat$1" curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
        "http://127.0.0.1:8008/health$2" || true
}

# ha_stream_start: a stream from the private host that the server pushes
# (stream-probe.py), running once 20 lines came.
ha_stream_start() {
    rm -f "$T/stream.progress"
    ip netns exec "$NS_HOST" "$PY" "$INTEG_DIR/stream-probe.py" client "$HA_INET_IP" 5000 120 \
        "$T/stream.progress" >"$T/stream.out" 2>&1 &
    STREAM_PID=$!
    wait_for 10 ha_stream_lines_at_least 20 || fail "the stream did not start: $(cat "$T/stream.out")"
}
ha_stream_lines() { cut -d' ' -f1 "$T/stream.progress" 2>/dev/null || echo 0; }
ha_stream_lines_at_least() { (($(ha_stream_lines) >= $1)); }

# ha_stream_check WHAT: the stream goes on (25 more lines), then ends; it
# must not have been reset. Its longest gap is a timing figure.
ha_stream_check() {
    local before result was_reset gap received error
    before=$(ha_stream_lines)
    wait_for 10 ha_stream_lines_at_least $((before + 25)) ||
        fail "$1: the stream stopped: $(cat "$T/stream.progress")"
    kill -TERM "$STREAM_PID"
    wait "$STREAM_PID" || true
    result=$(tail -n 1 "$T/stream.out")
    read -r was_reset gap received error < <("$PY" -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["reset"], r["max_gap_ms"], r["received"], r["error"])' "$result")
    [[ $was_reset == False ]] || fail "$1: the stream was reset: $result"
    timing "$1: the server-pushed stream's longest gap" "${gap%.*}"
    pass "$1: the TCP stream the server pushes went on: $received lines, no reset (error $error), longest gap $gap ms"
}
