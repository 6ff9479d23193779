#!/usr/bin/env bash
# Foreign firewalls analysed, not guessed. With natd ready in the simulated
# VPC (no networkd, natd on a private system bus), another program adds
# rules in tables of its own; natd evaluates them against NAT packets:
#   a. `iifname "ens6" drop` in another table's forward chain: degraded
#      naming table, chain and handle, NAT really broken; deleted: ready
#      again within a second (sd_notify stamps), NAT works;
#   b. a prerouting chain with policy drop: degraded; deleted: ready;
#   c. a CIS-like hardened inet filter (forward policy drop, invalid dropped,
#      established/related accepted) is a blocker until it accepts NAT
#      traffic (iifname ens6 oifname ens5 accept): then ready, NAT works;
#   d. Docker's iptables-nft chains (ip filter FORWARD policy drop, jump
#      DOCKER-USER, Docker's isolation chains): degraded until DOCKER-USER
#      accepts NAT traffic both ways, as Docker documents; then ready;
#   e. iptables-legacy (x_tables): FORWARD -i ens6 -j DROP, then policy DROP:
#      degraded naming the rule as iptables prints it, NAT broken; deleted,
#      or opened for NAT traffic: ready again (natd reads x_tables each
#      second: within 1.5 s);
#   f. d. once more, the chains written by iptables-nft itself.
# natd never edits those tables and counts no repair.
# Usage: foreign-firewall.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.foreign-firewall "$@"
drift_vpc
drift_ready
check_egress " (before any foreign firewall)"
ctl_status 0
repairs0=$(sj_get repairs)

nft_ns() {
    ip netns exec "$NS_NAT" nft "$@"
}
nat_blocked() {
    local rc=0 out
    out=$(ip netns exec "${PFX}h2" curl -sS --connect-timeout 1 --max-time 2 "http://$INET_IP/" 2>&1) || rc=$?
    ((rc != 0)) || fail "$1: 10.0.2.10 reached the internet ('$out'): the rule does not block, the test tests nothing"
}
# blocked_by WHAT TEXT: degraded with a warning containing TEXT.
blocked_by() {
    wait_until 5 state_is degraded "$2" || fail "$1: natd is not degraded with a warning containing '$2': $WAIT_OUT"
    ctl_status 1
    pass "$1: degraded: $(sj_get warnings)"
}
# open_again WHAT T0 [LIMIT-MS]: ready without warnings within LIMIT-MS
# (default a second) of T0, NAT works.
open_again() {
    local t0=$2 limit=${3:-1000} t1
    wait_until 5 state_is ready - || fail "$1: natd is not ready without warnings: $WAIT_OUT"
    t1=$(notify_since "$t0" 'STATUS=Ready')
    [[ -n $t1 ]] || fail "$1: no STATUS=Ready after it"
    ((t1 - t0 < limit)) || fail "$1: STATUS=Ready came $((t1 - t0)) ms later (limit $limit ms)"
    check_egress " ($1)"
    pass "$1: ready again in $((t1 - t0)) ms, NAT works"
}

# --- a. a rule that drops exactly NAT traffic ---------------------------------------
nft_ns add table inet other
nft_ns add chain inet other fw_forward '{ type filter hook forward priority 0; policy accept; }'
nft_ns add rule inet other fw_forward iifname "$PRIV_DEV" counter drop
handle=$(nft_ns -a list chain inet other fw_forward | grep -oE 'drop # handle [0-9]+' | grep -oE '[0-9]+$')
blocked_by "a. iifname $PRIV_DEV drop" "table inet other chain fw_forward rule handle $handle (drop) drops new NAT traffic"
nat_blocked "a."
now_ms t0
nft_ns delete rule inet other fw_forward handle "$handle"
open_again "a. the rule deleted" "$t0"

# --- b. prerouting policy drop ----------------------------------------------------------
nft_ns add chain inet other early '{ type filter hook prerouting priority 0; policy drop; }'
blocked_by "b. prerouting policy drop" "table inet other chain early (prerouting hook) has policy drop"
now_ms t0
nft_ns delete chain inet other early
open_again "b. the prerouting chain deleted" "$t0"
nft_ns delete table inet other

# --- c. a CIS-like hardened inet filter -------------------------------------------------
nft_ns -f - <<EOF
table inet filter {
    chain forward {
        type filter hook forward priority 0; policy drop;
        ct state invalid drop
        ct state established,related accept
    }
}
EOF
blocked_by "c. hardened inet filter, closed" "table inet filter chain forward (forward hook) has policy drop: it drops new NAT traffic"
nat_blocked "c."
now_ms t0
nft_ns add rule inet filter forward iifname "$PRIV_DEV" oifname "$PUB_DEV" accept
open_again "c. hardened inet filter opened for NAT traffic" "$t0"
nft_ns delete table inet filter

# --- d. Docker's iptables-nft chains ----------------------------------------------------
nft_ns -f - <<EOF
table ip filter {
    chain DOCKER { }
    chain DOCKER-ISOLATION-STAGE-2 {
        oifname "docker0" drop
        return
    }
    chain DOCKER-ISOLATION-STAGE-1 {
        iifname "docker0" oifname != "docker0" jump DOCKER-ISOLATION-STAGE-2
        return
    }
    chain DOCKER-USER {
        return
    }
    chain FORWARD {
        type filter hook forward priority 0; policy drop;
        jump DOCKER-USER
        jump DOCKER-ISOLATION-STAGE-1
        oifname "docker0" ct state related,established accept
        oifname "docker0" jump DOCKER
        iifname "docker0" oifname != "docker0" accept
        iifname "docker0" oifname "docker0" accept
    }
}
EOF
blocked_by "d. Docker's FORWARD policy drop" "table ip filter chain FORWARD (forward hook) has policy drop"
nat_blocked "d."
now_ms t0
# Docker's documentation: allow other forwarding in DOCKER-USER.
nft_ns insert rule ip filter DOCKER-USER iifname "$PUB_DEV" oifname "$PRIV_DEV" ct state related,established accept
nft_ns insert rule ip filter DOCKER-USER iifname "$PRIV_DEV" oifname "$PUB_DEV" accept
open_again "d. DOCKER-USER accepts NAT traffic" "$t0"
nft_ns delete table ip filter

# --- e. iptables-legacy (x_tables) -----------------------------------------------------
# x_tables announces no change: natd reads its filter table every second
# while it exists (every 5 s while it does not), so the bounds are wider.
ipt_legacy() {
    ip netns exec "$NS_NAT" iptables-legacy "$@"
}
ipt_legacy -A FORWARD -i "$PRIV_DEV" -j DROP
wait_until 8 state_is degraded "iptables-legacy table filter chain FORWARD rule 1 (drop) drops new NAT traffic" ||
    fail "e. iptables-legacy FORWARD -i $PRIV_DEV -j DROP: natd is not degraded naming it: $WAIT_OUT"
ctl_status 1
[[ $(sj_get warnings) == *"-A FORWARD -i $PRIV_DEV -j DROP"* ]] ||
    fail "e. the warning does not show the rule as iptables prints it: $(sj_get warnings)"
pass "e. iptables-legacy FORWARD drop: degraded: $(sj_get warnings)"
nat_blocked "e."
now_ms t0
ipt_legacy -D FORWARD 1
open_again "e. iptables-legacy rule deleted" "$t0" 1500
ipt_legacy -P FORWARD DROP
blocked_by "e. iptables-legacy FORWARD policy DROP" "iptables-legacy table filter chain FORWARD (forward hook) has policy drop"
nat_blocked "e. (policy)"
now_ms t0
# Opened for NAT traffic the way a hardened host does it.
ipt_legacy -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ipt_legacy -A FORWARD -i "$PRIV_DEV" -o "$PUB_DEV" -j ACCEPT
open_again "e. iptables-legacy FORWARD opened for NAT traffic" "$t0" 1500
ipt_legacy -P FORWARD ACCEPT
ipt_legacy -F FORWARD

# --- f. Docker's chains as iptables-nft itself writes them ------------------------------
ipt_nft() {
    ip netns exec "$NS_NAT" iptables-nft "$@"
}
for c in DOCKER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2 DOCKER-USER; do ipt_nft -N "$c"; done
ipt_nft -P FORWARD DROP
ipt_nft -A FORWARD -j DOCKER-USER
ipt_nft -A FORWARD -j DOCKER-ISOLATION-STAGE-1
ipt_nft -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ipt_nft -A FORWARD -o docker0 -j DOCKER
ipt_nft -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
ipt_nft -A FORWARD -i docker0 -o docker0 -j ACCEPT
ipt_nft -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
ipt_nft -A DOCKER-ISOLATION-STAGE-1 -j RETURN
ipt_nft -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
ipt_nft -A DOCKER-ISOLATION-STAGE-2 -j RETURN
ipt_nft -A DOCKER-USER -j RETURN
blocked_by "f. Docker's chains by iptables-nft" "table ip filter chain FORWARD (forward hook) has policy drop"
nat_blocked "f."
now_ms t0
ipt_nft -I DOCKER-USER -i "$PRIV_DEV" -o "$PUB_DEV" -j ACCEPT
ipt_nft -I DOCKER-USER -i "$PUB_DEV" -o "$PRIV_DEV" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
open_again "f. DOCKER-USER (iptables-nft) accepts NAT traffic" "$t0"
nft_ns delete table ip filter

ctl_status 0
[[ $(sj_get repairs) == "$repairs0" ]] || fail "natd counted repairs ($repairs0 -> $(sj_get repairs)) for other tables"
pass "no repair counted: natd never touched the other tables"
