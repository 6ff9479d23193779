#!/usr/bin/env bash
# The hostile configuration corpus against natd --check-config: every case of
# tests/hostile/cases.tsv gets a scratch --root with its input as
# /etc/natd/natd.conf (and natd.conf.d/), and must end as the manifest says:
# its exit status, its "FILE:LINE: message" errors, and for a normalisation
# the value --dump-config shows. Whatever the case, natd must not hang (each
# run is bounded), crash (exit >= 128) or print anything but printable ASCII.
# The huge and special inputs (1 MB lines, 100,000 subnets, FIFOs, symlink
# loops, /dev/zero, ...) are made here by gen_CASE, not committed.
# Usage: check-config.sh PATH-TO-natd   (no root needed; as root the
# permission cases run natd as nobody, since root reads any file)
set -euo pipefail

# shellcheck source=tests/hostile/hostile-lib.sh
source "$(dirname "$0")/hostile-lib.sh"
CASES=$HOSTILE_CASES
MANIFEST=$HOSTILE_MANIFEST
TEST_NAME=hostile.check-config
BOUND=10  # seconds: --check-config reads a few files; more is a hang

info() { printf '[%s] %s\n' "$TEST_NAME" "$*"; }
FAILURES=0
# A failed case is reported and counted; the other cases still run.
fail_case() {
    printf '[%s] FAIL %s\n' "$TEST_NAME" "$*" >&2
    FAILURES=$((FAILURES + 1))
}
die() {
    printf '[%s] FAIL %s\n' "$TEST_NAME" "$*" >&2
    exit 1
}
# As tests/integration/lib.sh: realtime clock in ms, and a measured figure.
now_ms() {
    local us=${EPOCHREALTIME//[.,]/}
    printf -v "$1" '%s' "$((10#$us / 1000))"
}
timing() { printf '[%s] TIMING %s: %s ms\n' "$TEST_NAME" "$1" "$2"; }

NATD=${1:-}
[[ -n $NATD && -x $NATD ]] || die "usage: $0 PATH-TO-natd (got '${NATD}')"
NATD=$(realpath "$NATD")
[[ -f $MANIFEST ]] || die "no manifest $MANIFEST"

# Inputs readable by nobody too (the permission cases run natd as nobody).
umask 022
T=$(mktemp -d /tmp/natd-hostile.XXXXXX)
# natd may run as nobody (the permission cases): it must reach the roots.
chmod 755 "$T"
cleanup() {
    # The permission cases leave directories nobody may enter.
    chmod -R u+rwx "$T" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT

# As root every file is readable: the permission cases drop to nobody.
UNPRIVILEGED=()
if ((EUID == 0)); then
    command -v setpriv >/dev/null || die "setpriv (util-linux) is needed to run the permission cases as root"
    UNPRIVILEGED=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi

# --- running a case -----------------------------------------------------------------

# run_natd OUT ERR ARGS...: natd in the case's root, bounded; sets RC, MS.
run_natd() {
    local out=$1 err=$2 t0 t1
    shift 2
    now_ms t0
    RC=0
    timeout -s KILL "$BOUND" "${RUN_AS[@]}" "$NATD" --root "$ROOT" "${ARGS[@]}" "$@" \
        </dev/null >"$out" 2>"$err" || RC=$?
    now_ms t1
    MS=$((t1 - t0))
}

# only_printable FILE: nothing but printable ASCII and newlines.
only_printable() { [[ $(LC_ALL=C tr -d '\n\40-\176' <"$1" | wc -c) == 0 ]]; }

# check_case NAME EXIT EXPECTATIONS...
check_case() {
    local name=$1 want=$2 e out err text stdout dump n bad
    shift 2
    ROOT=$T/$name
    mkdir -p "$ROOT/etc/natd"
    hostile_setup "$name" "$ROOT/etc/natd" ||
        { fail_case "$name: no input (cases/$name.conf, cases/$name/ or gen_$name)"; return; }
    out=$T/$name.out err=$T/$name.err
    run_natd "$out" "$err" --check-config
    # Paths as natd.conf names them: without the scratch root.
    text=$(<"$err")
    text=${text//"$ROOT"/}
    stdout=$(<"$out")
    stdout=${stdout//"$ROOT"/}
    if ((RC == 137)); then
        fail_case "$name: natd --check-config still ran after ${BOUND}s: it hangs"
        return
    fi
    ((RC < 128)) || { fail_case "$name: natd crashed (exit $RC, signal $((RC - 128))): $text"; return; }
    ((RC == want)) || { fail_case "$name: exit $RC, expected $want; stderr: $text"; return; }
    only_printable "$err" || { fail_case "$name: stderr has bytes that are not printable ASCII: $(od -c "$err" | head -n 5)"; return; }
    only_printable "$out" || { fail_case "$name: stdout has bytes that are not printable ASCII"; return; }
    if ((want == 0)); then
        [[ -z $text ]] || { fail_case "$name: valid, yet stderr says: $text"; return; }
    else
        # Every line an error naming its file (and line), then natd's summary.
        bad=$(grep -vxE '/etc/natd/[^:]+(:[0-9]+)?: .+' <<<"$text" |
            grep -vxF 'natd: configuration invalid, nothing applied' || true)
        [[ -z $bad ]] || { fail_case "$name: stderr lines not of the form FILE[:LINE]: message: $bad"; return; }
        [[ $(tail -n 1 <<<"$text") == 'natd: configuration invalid, nothing applied' ]] ||
            { fail_case "$name: stderr does not end with natd's summary: $text"; return; }
    fi
    dump=
    for e in "$@"; do
        case $e in
            errors=*)
                n=$(grep -c '^/etc/natd/' <<<"$text" || true)
                [[ $n == "${e#errors=}" ]] || { fail_case "$name: $n error lines, expected ${e#errors=}: $text"; return; }
                ;;
            stdout:*)
                [[ $stdout == *"${e#stdout:}"* ]] || { fail_case "$name: stdout lacks '${e#stdout:}': $stdout"; return; }
                ;;
            dump:*)
                if [[ -z $dump ]]; then
                    run_natd "$T/$name.dump" "$T/$name.dump.err" --dump-config
                    ((RC == 0)) || { fail_case "$name: --dump-config exit $RC: $(<"$T/$name.dump.err")"; return; }
                    dump=$T/$name.dump
                fi
                grep -qxF "${e#dump:}" "$dump" || { fail_case "$name: --dump-config has no line '${e#dump:}': $(grep -v '^#' "$dump")"; return; }
                ;;
            *)
                [[ $text == *"$e"* ]] || { fail_case "$name: stderr lacks '$e'; stderr: $text"; return; }
                ;;
        esac
    done
    case $name in subnets-100k*) timing "natd --check-config, 100,000 subnets ($name)" "$MS" ;; esac
    info "PASS $name: exit $RC in $MS ms${text:+: $(head -n 1 <<<"$text" | cut -c 1-150)}"
}

# --- the manifest ------------------------------------------------------------------

declare -A LISTED=()
COUNT=0
while IFS=$'\t' read -r -a row; do
    [[ ${#row[@]} -eq 0 || ${row[0]} == '#'* ]] && continue
    ((${#row[@]} >= 3)) || die "cases.tsv: '${row[*]}': expected CASE, EXIT and at least one expectation"
    [[ -z ${LISTED[${row[0]}]:-} ]] || die "cases.tsv: case ${row[0]} listed twice"
    LISTED[${row[0]}]=1
    COUNT=$((COUNT + 1))
    check_case "${row[@]}"
done <"$MANIFEST"

# Every committed input has its row: none is silently skipped.
for f in "$CASES"/*; do
    n=$(basename "$f" .conf)
    [[ -n ${LISTED[$n]:-} ]] || fail_case "cases/$(basename "$f") has no row in cases.tsv"
done

((FAILURES == 0)) || die "$FAILURES of $COUNT cases failed"
info "OK: $COUNT cases"
