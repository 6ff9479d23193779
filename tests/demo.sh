#!/usr/bin/env bash
# natd demo: builds natd, builds a simulated AWS VPC in network namespaces
# (internet, NAT instance, VPC router, two private hosts), starts natd before
# the NAT's private ENI exists, attaches the ENI, and shows the private hosts
# reaching the internet through the NAT. Everything is torn down at the end.
# Run as root (as another user it re-runs itself with sudo).
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD

if [[ $EUID -ne 0 ]]; then
    if ! command -v sudo >/dev/null; then
        echo "The demo builds network namespaces and firewall rules: run it as root." >&2
        exit 1
    fi
    echo "The demo builds network namespaces and firewall rules: re-running as root with sudo."
    exec sudo bash "$REPO/tests/demo.sh" "$@"
fi

if [[ -t 1 ]]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD='' PLAIN=''; fi
step() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$PLAIN"; }
indent() { sed 's/^/    /'; }

step "Installing build and test dependencies (apt-get, only if missing)"
bash tests/install-deps.sh

step "Building natd into build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --parallel "$(nproc)" --target natd | tail -n 1

# shellcheck source=tests/integration/lib.sh
source "$REPO/tests/integration/lib.sh"
lib_init demo "$REPO/build/daemon/natd"
ENI_STEP_DELAY=1  # slow enough to watch

step "Building the simulated VPC"
vpc_create card
cat <<EOF | indent
internet          $INET_IP          (answers every HTTP request with the caller's address)
NAT instance      $PUB_DEV $PUB_IP    public ENI, altname device-number-0.0
VPC router        10.0.1.1, 10.0.2.1, 10.0.3.1   private route tables: 0.0.0.0/0 -> $PRIV_IP
private hosts     10.0.2.10, 10.0.3.10
EOF

step "natd's configuration ($ROOT/etc/natd/natd.conf)"
write_config etc/natd/natd.conf <<EOF
[Interfaces]
# Public=device-number-0 and Private=device-number-1 are the defaults.
WaitTimeoutSec=infinity

[Routes]
Subnets=$SUBNETS
EOF
indent <"$ROOT/etc/natd/natd.conf"

step "Starting natd; the NAT instance has no private ENI yet"
natd_start
natd_settle "the private ENI"
echo "natd's log so far:"
indent <"$T/natd.log"

step "Attaching the private ENI (as EC2 hot-plug, udev and DHCP would)"
eni_plug
eni_name card
natd_wait_ready
echo "natd reported READY $((READY_MS - ENI_ALTNAME_MS)) ms after the altname appeared. Its log:"
indent <"$T/natd.log"

step "Private hosts asking http://$INET_IP/ (an ipify-like service) who they are"
for n in "${HOST_NETS[@]}"; do
    answer=$(ip netns exec "${PFX}h$n" curl -s --max-time 5 "http://$INET_IP/" || echo "(no answer)")
    verdict="is the NAT's public address"
    [[ $answer == "$PUB_IP" ]] || verdict="is NOT the NAT's public address $PUB_IP"
    printf '    10.0.%s.10 is seen as %-15s %s\n' "$n" "$answer" "$verdict"
done

step "The internet trying to connect to private host 10.0.2.10 through the NAT"
check_inbound_blocked

step "nft list table ip natd (in the NAT instance)"
ip netns exec "$NS_NAT" nft list table ip natd | indent

step "Routes in the NAT instance"
ip -n "$NS_NAT" route | indent
echo "    net.ipv4.ip_forward = $(ip netns exec "$NS_NAT" sysctl -n net.ipv4.ip_forward)"

step "Stopping natd (SIGTERM): the NAT stays in place"
kill -TERM "$NATD_PID"
wait_exit "$NATD_PID" 10 || fail "natd did not exit within 10s"
NATD_PID=
echo "natd exited with status $EXIT_RC"
answer=$(ip netns exec "${PFX}h2" curl -s --max-time 5 "http://$INET_IP/" || echo "(no answer)")
echo "10.0.2.10 is still seen as $answer"

step "Tearing the simulated VPC down"
