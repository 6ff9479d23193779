#!/bin/bash
# Captures the netlink seeds of fuzz/corpus/ from the kernel: builds a
# throwaway network namespace shaped like a NAT instance (two ENIs, veth pairs, with
# amazon-ec2-net-utils' altnames, their addresses, a default route and natd's
# return routes), runs capture-netlink there, and deletes it.
#   fuzz/capture-seeds.sh CAPTURE-NETLINK-BINARY OUTDIR
# (the binary is build/fuzz/fuzz-capture-netlink of the ordinary build).
# Run as root; review the files, then copy the ones worth keeping into
# fuzz/corpus/TARGET/.
set -euo pipefail

capture=$1
out=$2
ns=natd-fuzz-capture-$$
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT

ip netns add "$ns"
in_ns() { ip -n "$ns" "$@"; }
in_ns link set lo up
# veth pairs rather than dummy links: not every kernel (a container's) has
# the dummy module; the peers stay in the namespace, down.
in_ns link add ens5 address 0a:00:00:00:00:05 type veth peer name ens5-peer
in_ns link add ens6 address 0a:00:00:00:00:06 type veth peer name ens6-peer
in_ns link property add dev ens5 altname device-number-0.0
in_ns link property add dev ens6 altname device-number-1.0
in_ns link property add dev ens6 altname eni-0123456789abcdef0
in_ns link set ens5 up
in_ns link set ens6 up
in_ns addr add 172.31.0.10/20 dev ens5
in_ns addr add 172.31.0.11/20 dev ens5
in_ns addr add 10.0.1.10/24 dev ens6
in_ns addr add 10.9.0.1 peer 10.9.0.2/32 dev ens6
in_ns -6 addr add fd00::10/64 dev ens6
in_ns route add default via 172.31.0.1 dev ens5
in_ns route add 10.0.2.0/24 via 10.0.1.1 dev ens6 onlink proto 213
in_ns route add 10.0.4.0/22 via 10.0.1.1 dev ens6 onlink proto 213 metric 50
in_ns route add 192.168.0.0/16 dev ens6 proto static table 100
in_ns route add blackhole 10.99.0.0/16

ip netns exec "$ns" "$capture" "$out" ens5 ens6
