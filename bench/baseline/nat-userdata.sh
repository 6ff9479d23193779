#!/bin/bash
# shellcheck disable=SC2086,SC2129 # unquoted expansions and one echo >> per line, as published
# The baseline natd is measured against: the Amazon Linux 2023 user-data
# script of the blog post natd grew from (../shared/context/seed-blog-post.txt
# in the project's notes; "New user data script"), step by step as published:
# sysctl drop-in, a poll every 3 s for the link with altname device-number-1,
# its kernel name guessed with grep -oP 'ens[0-9]+', the three iptables rules,
# the return routes as a networkd drop-in written with echo >>, networkctl
# reload. What differs, and why:
#   - /etc paths live under $BASELINE_ROOT (the benchmark's scratch root);
#   - the Terraform template's loop over the private subnets is rendered from
#     the arguments (CIDR...; the first is the NAT's own subnet, which the
#     template subtracts, and the gateway is its .1 as cidrhost(primary, 1));
#   - yum install, systemctl enable iptables, service iptables save and
#     networkctl reload are the benchmark's shims on PATH (no package manager
#     or systemd as PID 1 here); the reload is left to the shim, so routes
#     from networkd are not part of what this script is timed for;
#   - POLL_SECONDS (default 3, as published) lets the benchmark time the
#     script "with its poll removed" (0).
# Usage: BASELINE_ROOT=DIR nat-userdata.sh PRIMARY-CIDR [CIDR...]
set -u
ROOT=${BASELINE_ROOT:?}
POLL_SECONDS=${POLL_SECONDS:-3}
primary_subnet=$1
shift
# cidrhost(primary_subnet, 1) for a /8../30 IPv4 subnet.
IFS=./ read -r a b c d _ <<<"$primary_subnet"
gateway="$a.$b.$c.$((d + 1))"

yum install iptables-services -y
mkdir -p "$ROOT/etc/sysctl.d"
echo "net.ipv4.ip_forward=1" >> "$ROOT/etc/sysctl.d/90-nat.conf"
sysctl -q -w net.ipv4.ip_forward=1 # sysctl --system, for the benchmark's netns only

ITERATIONS=10
ETH1=""
# Wait for "eth1" to be detected by kernel and get its real name
while [ -z $ETH1 ] && [ $ITERATIONS -gt 0 ]; do
  sleep "$POLL_SECONDS"
  # device-number-1 is secondary interface as specified by device_index = 1
  ETH1=$(ip -4 addr show device-number-1 | grep -oP 'ens[0-9]+' | head -n1)
  ITERATIONS=$((ITERATIONS-1))
done

# Select public interface that is not "eth1"
ETH0=$(ip -4 addr show device-number-0 | grep -oP 'ens[0-9]+' | head -n1)

iptables -t nat -A POSTROUTING -o $ETH0 -j MASQUERADE
iptables -A FORWARD -i $ETH0 -o $ETH1 -m state --state RELATED,ESTABLISHED -j ACCEPT
iptables -A FORWARD -i $ETH1 -o $ETH0 -j ACCEPT
systemctl enable iptables
service iptables save

# We make these routes for the secondary interface
mkdir -p $ROOT/etc/systemd/network/70-$ETH1.network.d
for cidr in "$@"; do
  [ "$cidr" = "$primary_subnet" ] && continue # setsubtract(private_subnets, [primary_subnet])
echo "[Route]" >> $ROOT/etc/systemd/network/70-$ETH1.network.d/routes.conf
echo "Destination=${cidr}" >> $ROOT/etc/systemd/network/70-$ETH1.network.d/routes.conf
echo "Gateway=${gateway}" >> $ROOT/etc/systemd/network/70-$ETH1.network.d/routes.conf
echo "GatewayOnlink=yes" >> $ROOT/etc/systemd/network/70-$ETH1.network.d/routes.conf
done
# Reload all the new configuration
networkctl reload
