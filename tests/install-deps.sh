#!/usr/bin/env bash
# Installs (with apt-get, Debian 12) everything needed to build natd and run
# its tests. Idempotent: runs apt-get update + install only when a package is
# missing. Run as root.
set -euo pipefail

PACKAGES=(
    # build
    cmake g++ make pkg-config
    libmnl-dev libnftnl-dev libsystemd-dev libspdlog-dev libjson-c-dev libcurl4-openssl-dev libexpat1-dev catch2
    clang-format clang-tidy
    # integration tests and demo
    nftables iproute2 curl procps coreutils findutils python3 strace
    # systemd integration (sd_notify, units)
    dbus systemd
    # lint for the test scripts
    shellcheck
    # packaging tests (tests/packaging): cpack's DEB and RPM, rpmbuild, linters
    rpm rpmlint lintian dpkg-dev bash-completion man-db cpio file
    # the AL2023 boot (tests/integration/al2023-boot.sh): the VPC's DHCP
    dnsmasq-base
    # foreign firewalls: iptables-legacy (x_tables) and iptables-nft rules
    iptables
    # conntrack's table (tests/integration/conntrack.sh flushes it)
    conntrack
    # metrics: the HTTP endpoint (libmicrohttpd) and the exposition parser
    # the metrics test checks it with (tests/integration/metrics.sh)
    libmicrohttpd-dev python3-prometheus-client
    # [HighAvailability]: the engines natd configures (tests/integration/ha-*.sh)
    keepalived conntrackd
    # benchmarks (bench/): TCP throughput through the NAT
    iperf3
    # deploy tests (tests/deploy): HashiCorp's HCL v2 parser (Go library,
    # GOPATH mode, nothing downloaded) for deploy/terraform and deploy/packer
    golang-go golang-github-hashicorp-hcl-v2-dev
    # fuzzing (fuzz/run.sh): clang with libFuzzer and its sanitizer runtimes
    clang libclang-rt-14-dev ninja-build
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#PACKAGES[@]} packages already installed"
    exit 0
fi

if [[ $EUID -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]}; run me as root" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
