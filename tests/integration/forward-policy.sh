#!/usr/bin/env bash
# natd's hardened forward chain, both ways of ForwardPolicy=.
# The simulated VPC (drift-lib.sh: no networkd, natd on a private bus) gets
# two more things on the NAT instance: a container bridge docker0
# (172.17.0.1/16) with a container behind it (172.17.0.2, an HTTP
# listener), and a route in the internet namespace sending 172.17.0.0/16
# and 198.51.100.0/24 (a second public network, reached back out of the
# public ENI: hairpin) to the NAT's public address. rp_filter is off in the
# NAT instance and the VPC router, so that natd's table is what must stop
# the spoofed packets.
# With ForwardPolicy=drop (the default), each of these is dropped, the
# receiver's probe counter stays at 0, and natd's counter for the role rises
# (natd-ctl status --json):
#   public -> docker0 (a connection to the container)       drop-other
#   public -> docker0 with a spoofed private source           drop-other
#   public -> public (hairpin to 198.51.100.7)                drop-hairpin
#   private TCP SYN|FIN to the internet (conntrack: invalid)  drop-invalid
#   private source 10.9.9.9, not in SourceCIDRs               drop-out
# and the NAT still works (check_egress, check_inbound_blocked). Then
# ForwardPolicy=accept by natd-ctl reload: the table has no drop-other, the
# connection to the container succeeds, and the four NAT-specific drops
# still hold. Last, the control: natd stopped and its table deleted, the
# same packets do reach their receivers, so the probes could have counted.
# Usage: forward-policy.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.forward-policy "$@"
SEND_PY=$INTEG_DIR/send-packet.py
CTR_IP=172.17.0.2
HAIRPIN_IP=198.51.100.7
SPOOF_IP=10.0.2.10  # a private host's address, sent from the internet
STRAY_IP=10.9.9.9   # a private-side source outside SourceCIDRs=

drift_vpc
NS_CTR=${PFX}ctr
new_ns "$NS_CTR"
for ns in "$NS_NAT" "$NS_RTR"; do
    ip netns exec "$ns" sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
ip netns exec "$NS_NAT" sysctl -q -w "net.ipv4.conf.$PUB_DEV.rp_filter=0"
ip -n "$NS_NAT" link add docker0 type bridge
ip -n "$NS_NAT" addr add 172.17.0.1/16 dev docker0
ip link add name veth-ctr netns "$NS_NAT" type veth peer name eth0 netns "$NS_CTR"
ip -n "$NS_NAT" link set veth-ctr master docker0 up
ip -n "$NS_NAT" link set docker0 up
ip -n "$NS_CTR" addr add "$CTR_IP/16" dev eth0
ip -n "$NS_CTR" link set eth0 up
ip -n "$NS_CTR" route add default via 172.17.0.1
start_server "$NS_CTR" ctr
ip -n "$NS_INET" route add 172.17.0.0/16 via "$PUB_IP"
ip -n "$NS_INET" route add 198.51.100.0/24 via "$PUB_IP"
info "docker0 172.17.0.1/16 on the NAT instance, container $CTR_IP; the internet routes 172.17.0.0/16 and 198.51.100.0/24 to $PUB_IP"

# Probes: counters in the receivers' prerouting, by comment.
ip netns exec "$NS_INET" nft -f - <<EOF2
table ip probe {
    chain pre {
        type filter hook prerouting priority -300; policy accept;
        iifname "igw0" ip daddr $HAIRPIN_IP counter comment "hairpin"
        iifname "igw0" tcp flags & (syn | fin) == syn | fin counter comment "synfin"
        iifname "igw0" udp dport 9001 counter comment "stray"
    }
}
EOF2
ip netns exec "$NS_CTR" nft -f - <<EOF2
table ip probe {
    chain pre {
        type filter hook prerouting priority -300; policy accept;
        ip saddr $SPOOF_IP counter comment "spoofed"
        ip saddr $INET_IP counter comment "internet"
    }
}
EOF2
# probe NS COMMENT: packets counted by the probe rule COMMENT in NS.
probe() {
    ip netns exec "$1" nft -j list table ip probe | $PY -c '
import json, sys
for item in json.load(sys.stdin)["nftables"]:
    rule = item.get("rule")
    if rule and rule.get("comment") == sys.argv[1]:
        print(next(e["counter"]["packets"] for e in rule["expr"] if "counter" in e))
        break
else:
    sys.exit("no probe rule " + sys.argv[1])' "$2"
}
# role_packets ROLE: packets of every natd rule with ROLE in the last
# ctl_status, summed; fails when there is none.
role_packets() {
    $PY -c '
import json, sys
counters = json.load(sys.stdin)["nftables"]["counters"]
mine = [c["packets"] for c in counters if c["role"] == sys.argv[1]]
if not mine:
    sys.exit("no counter with role " + sys.argv[1] + ": " + json.dumps(counters))
print(sum(mine))' "$1" <<<"$CTL_OUT"
}
# counted ROLE BEFORE: natd-ctl status shows ROLE above BEFORE (wait_until).
counted() {
    ctl_status >/dev/null
    local now
    now=$(role_packets "$1") || return 2
    ((now > $2)) || { echo "$1 still at $now"; return 1; }
}
# dropped CASE ROLE PROBE-NS PROBE COMMAND...: COMMAND sends; natd's ROLE
# counter must rise and the receiver's probe stay where it was.
dropped() {
    local what=$1 role=$2 probe_ns=$3 probe_name=$4 before probe_before probe_after rc out
    shift 4
    ctl_status 0
    before=$(role_packets "$role") || fail "$what: $before"
    probe_before=$(probe "$probe_ns" "$probe_name")
    rc=0
    out=$("$@" 2>&1) || rc=$?
    info "$what: sent ($* -> exit $rc${out:+: $out})"
    wait_until 5 counted "$role" "$before" ||
        fail "$what: natd's $role counter did not rise from $before within 5s: $WAIT_OUT"
    ctl_status 0
    probe_after=$(probe "$probe_ns" "$probe_name")
    ((probe_after == probe_before)) ||
        fail "$what: $((probe_after - probe_before)) packets reached the receiver (probe $probe_name $probe_before -> $probe_after); natd's $role counter rose to $(role_packets "$role")"
    pass "$what: dropped, $role $before -> $(role_packets "$role"), receiver's probe $probe_name still $probe_after"
}
curl_container() {
    ip netns exec "$NS_INET" curl -sS --connect-timeout 2 --max-time 3 "http://$CTR_IP/"
}
# The four drops natd keeps with either policy.
nat_specific_drops() {
    local when=$1
    dropped "public -> public hairpin$when" drop-hairpin "$NS_INET" hairpin \
        ip netns exec "$NS_INET" "$PY" "$SEND_PY" udp "$INET_IP" "$HAIRPIN_IP" 9003
    dropped "private TCP SYN|FIN (invalid)$when" drop-invalid "$NS_INET" synfin \
        ip netns exec "${PFX}h2" "$PY" "$SEND_PY" tcp 10.0.2.10 "$INET_IP" 80 SF
    # From the VPC router: a private-side sender whose own rp_filter is not
    # in the way; the source is outside SourceCIDRs (Subnets= + 10.0.1.0/24).
    dropped "private source $STRAY_IP outside SourceCIDRs$when" drop-out "$NS_INET" stray \
        ip netns exec "$NS_RTR" "$PY" "$SEND_PY" udp "$STRAY_IP" "$INET_IP" 9001
}

drift_ready
check_egress " (ForwardPolicy=drop)"
ctl_status 0
roles=$($PY -c 'import json,sys; print(" ".join(c["role"] for c in json.load(sys.stdin)["nftables"]["counters"]))' <<<"$CTL_OUT")
want_roles="masquerade masquerade masquerade drop-invalid drop-invalid clamp-mss forward-out forward-out forward-out drop-out return-in drop-in drop-hairpin drop-other"
[[ $roles == "$want_roles" ]] || fail "status counters have the roles '$roles', expected '$want_roles'"
pass "ForwardPolicy=drop: status counters $roles"

# The sender's side works: without natd's drop the container is reachable
# from inside the NAT instance.
out=$(ip netns exec "$NS_NAT" curl -sS --max-time 3 "http://$CTR_IP/" 2>&1) ||
    fail "the container's listener does not answer from the NAT instance itself: $out"
dropped "public -> docker0" drop-other "$NS_CTR" internet curl_container
dropped "public -> docker0, spoofed private source $SPOOF_IP" drop-other "$NS_CTR" spoofed \
    ip netns exec "$NS_INET" "$PY" "$SEND_PY" udp "$SPOOF_IP" "$CTR_IP" 9002
nat_specific_drops " (ForwardPolicy=drop)"
check_egress " (ForwardPolicy=drop, after the drops)"
check_inbound_blocked

# --- ForwardPolicy=accept ----------------------------------------------------
printf '[NAT]\nForwardPolicy=accept\n' >>"$ROOT/etc/natd/natd.conf"
natd_ctl_expect 0 "reload with ForwardPolicy=accept" reload
no_drop_other() {
    ctl_status >/dev/null
    [[ $(sj_get state) == ready && $(sj_get nftables.verified) == true ]] || { echo "state $(sj_get state)"; return 1; }
    if role_packets drop-other >/dev/null 2>&1; then echo "drop-other still there"; return 1; fi
}
wait_until 5 no_drop_other || fail "5s after reload with ForwardPolicy=accept: $WAIT_OUT"
ip netns exec "$NS_NAT" nft list chain ip natd forward | grep -q '^[[:space:]]*counter packets [0-9]* bytes [0-9]* drop comment "natd: drop-other"' &&
    fail "ForwardPolicy=accept: the kernel still has the final drop:"$'\n'"$(ip netns exec "$NS_NAT" nft list chain ip natd forward)"
pass "ForwardPolicy=accept: reloaded, table verified, no drop-other rule"
out=$(curl_container 2>&1) || fail "ForwardPolicy=accept: the internet could not reach the container behind docker0: $out"
[[ $out == "$INET_IP" ]] || fail "ForwardPolicy=accept: the container answered '$out', expected the caller $INET_IP"
pass "ForwardPolicy=accept: internet -> docker0 container passes (answered $out)"
nat_specific_drops " (ForwardPolicy=accept)"
check_egress " (ForwardPolicy=accept)"
check_inbound_blocked

# --- control: without natd's table the same packets arrive -------------------
# What proves the probes could count: natd stopped, its table deleted by the
# test (forwarding stays on), every packet dropped above reaches its receiver.
kill -TERM "$NATD_PID"
wait_exit "$NATD_PID" 10 || fail "natd did not exit within 10s of SIGTERM"
NATD_PID=
ip netns exec "$NS_NAT" nft delete table ip natd
ip netns exec "$NS_NAT" sysctl -q -w net.ipv4.ip_forward=1
# probe_rose NS PROBE BEFORE: the probe counted more than BEFORE (wait_until).
probe_rose() {
    local now
    now=$(probe "$1" "$2")
    ((now > $3)) || { echo "probe $2 still at $now"; return 1; }
}
# arrives WHAT PROBE-NS PROBE COMMAND...: COMMAND's packets reach the probe.
arrives() {
    local what=$1 probe_ns=$2 probe_name=$3 before
    shift 3
    before=$(probe "$probe_ns" "$probe_name")
    "$@" >/dev/null 2>&1 || true
    wait_until 5 probe_rose "$probe_ns" "$probe_name" "$before" ||
        fail "control, $what without natd's table: nothing arrived ($WAIT_OUT); the drop checks above prove nothing"
    pass "control, $what without natd's table: arrives (probe $probe_name $before -> $(probe "$probe_ns" "$probe_name"))"
}
arrives "public -> docker0, spoofed source" "$NS_CTR" spoofed \
    ip netns exec "$NS_INET" "$PY" "$SEND_PY" udp "$SPOOF_IP" "$CTR_IP" 9002
arrives "public -> public hairpin" "$NS_INET" hairpin \
    ip netns exec "$NS_INET" "$PY" "$SEND_PY" udp "$INET_IP" "$HAIRPIN_IP" 9003
arrives "private TCP SYN|FIN" "$NS_INET" synfin \
    ip netns exec "${PFX}h2" "$PY" "$SEND_PY" tcp 10.0.2.10 "$INET_IP" 80 SF
arrives "private source $STRAY_IP" "$NS_INET" stray \
    ip netns exec "$NS_RTR" "$PY" "$SEND_PY" udp "$STRAY_IP" "$INET_IP" 9001
