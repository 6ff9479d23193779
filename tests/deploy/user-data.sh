#!/usr/bin/env bash
# The Terraform module's user data (deploy/terraform/user-data.sh.tftpl),
# rendered as templatefile renders it (render.py) for each mode
# (vars/two-eni.json, single-eni.json, ha.json: the module's templatefile
# variables, checked by deploy.hcl), executed by bash against the DEB build:
# a dnf shim unpacks the DEB into the test's root, a systemctl shim records
# what is enabled, and /etc is an overlay whose writes land in the root (a
# mount namespace of the script's own). Then, per mode:
#   1. the script exits 0, having run natd --check-config on its drop-in
#      (the DEB's natd, reading /etc/natd through the overlay);
#   2. the drop-in is where natd reads it, and natd --root --check-config
#      accepts it again (with the packaged natd.conf beside it);
#   3. dnf and systemctl were called as the module means (HA: keepalived,
#      conntrackd, the unit drop-in widening natd's sandbox);
# and for two-eni, in the simulated VPC (tests/integration/lib.sh) with the
# private ENI attached at boot, natd started as the enable asked:
#   4. natd is READY, every private host egresses as the public address,
#      inbound is dropped, return routes and forwarding are in place.
# Usage: user-data.sh PATH-TO-natd PACKAGES-DIR   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/../integration/lib.sh"

DEPLOY_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$DEPLOY_DIR/../.." && pwd)
TEMPLATE=$SRC_DIR/deploy/terraform/user-data.sh.tftpl

lib_init deploy.user-data "$1"
pkgs=${2:?usage: $0 PATH-TO-natd PACKAGES-DIR}
for tool in dpkg unshare mount; do
    command -v "$tool" >/dev/null || fail "'$tool' is missing: run tests/install-deps.sh"
done
DEB=$(find "$pkgs" -maxdepth 1 -name 'natd_*.deb' -print -quit)
[[ -n $DEB ]] || fail "no natd_*.deb in $pkgs (run the test packaging.build first: ctest -R 'packaging.build|deploy')"

# In the script's mount namespace: /etc an overlay whose writes land in
# ROOT/etc ($2), ROOT/etc/natd over /etc/natd (a natd installed on this
# host must not show through), then the user data ($1/user-data.sh).
# shellcheck disable=SC2016 # expanded by the inner bash
IN_MOUNT_NS='set -e
mkdir -p "$1/ovl-work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$2/etc,workdir=$1/ovl-work" /etc
mkdir -p /etc/natd
mount --bind "$2/etc/natd" /etc/natd
exec bash "$1/user-data.sh"'

# run_user_data MODE ROOT: render for MODE and run it as cloud-init would
# (bash, as root), the shims first on PATH and the root's /usr after them.
run_user_data() {
    local mode=$1 root=$2 out rc=0
    mkdir -p "$root/etc" "$root/usr" "$T/$mode"
    "$PY" "$DEPLOY_DIR/render.py" "$TEMPLATE" "$DEPLOY_DIR/vars/$mode.json" >"$T/$mode/user-data.sh" ||
        fail "$mode: render.py could not render $TEMPLATE"
    : >"$T/$mode/shim.log"
    out=$(env DEPLOY_T="$T/$mode" DEPLOY_ROOT="$root" DEPLOY_DEB="$DEB" DEPLOY_SHIM_LOG="$T/$mode/shim.log" \
        PATH="$DEPLOY_DIR/shims:$root/usr/sbin:$root/usr/bin:$PATH" \
        timeout 60 unshare --mount --propagation private bash -c "$IN_MOUNT_NS" \
        deploy-user-data "$T/$mode" "$root" 2>&1) || rc=$?
    printf '%s\n' "$out" >"$T/$mode/user-data.log"
    ((rc == 0)) || fail "$mode: check 1: the rendered user data exited $rc: $(tail -n 15 <<<"$out")"
    pass "$mode: check 1: the rendered user data ran to the end (natd --check-config included)"

    [[ -s $root/etc/natd/natd.conf.d/50-terraform.conf && -s $root/etc/natd/natd.conf && -x $root/usr/sbin/natd ]] ||
        fail "$mode: check 2: no natd, natd.conf or drop-in in the root after the user data: $(cd "$root" && find . -type f | head)"
    out=$("$root/usr/sbin/natd" --root "$root" --check-config 2>&1) ||
        fail "$mode: check 2: natd --check-config refuses the rendered drop-in: $out"
    out=$("$root/usr/sbin/natd" --root "$root" --dump-config 2>&1) || fail "$mode: check 2: --dump-config: $out"
    printf '%s\n' "$out" >"$T/$mode/dump-config.txt"
    grep -q '50-terraform.conf' <<<"$out" || fail "$mode: check 2: natd --dump-config shows nothing from 50-terraform.conf: $out"
    pass "$mode: check 2: the DEB's natd reads and accepts /etc/natd/natd.conf.d/50-terraform.conf"
}

# expect_calls MODE LINE...: the shims' log is exactly these calls.
expect_calls() {
    local mode=$1 want got
    shift
    want=$(printf '%s\n' "$@")
    got=$(cat "$T/$mode/shim.log")
    [[ $got == "$want" ]] || fail "$mode: check 3: dnf/systemctl calls were
$got
expected
$want"
    pass "$mode: check 3: $(wc -l <<<"$got") dnf/systemctl calls as the module means"
}

url=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["natd_rpm_url"])' "$DEPLOY_DIR/vars/two-eni.json")

# --- single-eni and the HA pair: the script and its configuration ----------
run_user_data single-eni "$T/root-single-eni"
expect_calls single-eni "dnf install -y $url" "systemctl enable --now --no-block natd"
grep -qx 'Private=none' "$T/root-single-eni/etc/natd/natd.conf.d/50-terraform.conf" ||
    fail "single-eni: check 2: the drop-in lacks Private=none"
[[ ! -e $T/root-single-eni/etc/systemd/system/natd.service.d/50-terraform.conf ]] ||
    fail "single-eni: check 3: a unit drop-in although nothing listens"

run_user_data ha "$T/root-ha"
expect_calls ha "dnf install -y $url" "dnf install -y keepalived conntrack-tools" "systemctl daemon-reload" \
    "systemctl enable --now conntrackd keepalived" "systemctl enable --now --no-block natd"
unit_dropin=$T/root-ha/etc/systemd/system/natd.service.d/50-terraform.conf
{ grep -qx 'IPAddressAllow=any' "$unit_dropin" && grep -qx 'RestrictAddressFamilies=AF_PACKET' "$unit_dropin"; } ||
    fail "ha: check 3: the unit drop-in does not widen natd's sandbox as doc/high-availability.md says: $(cat "$unit_dropin")"
grep -q '^Peer=10.0.1.12' "$T/ha/dump-config.txt" || fail "ha: check 2: natd's effective configuration has no Peer=10.0.1.12"
pass "ha: check 3: the unit drop-in widens the sandbox for the EC2 API and gratuitous ARP"

# --- two-eni: in the simulated VPC, NAT up --------------------------------
vpc_create card
eni_plug
eni_name card
# shellcheck disable=SC2153 # ROOT: lib_init's scratch root
run_user_data two-eni "$ROOT"
expect_calls two-eni "dnf install -y $url" "systemctl daemon-reload" "systemctl enable --now --no-block natd"
grep -qx 'IPAddressAllow=10.0.0.0/16' "$ROOT/etc/systemd/system/natd.service.d/50-terraform.conf" ||
    fail "two-eni: check 3: the unit drop-in does not allow the health checks' VPC CIDR"
[[ -e $T/two-eni/natd.start ]] || fail "two-eni: check 4: the user data never asked systemctl to start natd"
NATD=$ROOT/usr/sbin/natd
[[ $(dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./usr/sbin/natd | sha256sum) == "$(sha256sum <"$NATD")" ]] ||
    fail "two-eni: check 4: $NATD is not the DEB's natd"
natd_start
natd_wait_ready
timing "natd started -> READY=1 (DEB, user data's configuration)" $((READY_MS - NATD_START_MS))
check_egress
check_inbound_blocked
check_nat_state
out=$(ip netns exec "$NS_NAT" curl -sS --max-time 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:8008/health 2>&1) || true
[[ $out == 200 ]] || fail "two-eni: check 4: GET /health on the user data's [Health] Listen= answered '$out', expected 200"
out=$(ip netns exec "$NS_NAT" curl -sS --max-time 5 http://10.0.1.10:9647/metrics 2>&1) || fail "two-eni: check 4: GET /metrics: $out"
grep -q '^natd_up 1' <<<"$out" || fail "two-eni: check 4: /metrics on the user data's [Metrics] Listen= has no 'natd_up 1'"
pass "two-eni: check 4: the DEB's natd under the user data's configuration is ready: NAT, /health 200, /metrics"
