#!/usr/bin/env bash
# natd writes and deletes only its own files, below --root, never through a
# symlink, with fixed modes. In the simulated VPC (no networkd), with the
# private ENI attached before natd starts:
# A. `umask 000; natd --once` on an empty root: the directories natd creates
#    are 0755, its sysctl file and drop-in 0644, its registry 0600;
# B. a poisoned registry (/../outside-victim, a file beside ROOT; the
#    absolute path of a file under $T outside ROOT; /etc/passwd, a file in
#    ROOT; relative; a nested drop-in path) and `natd --once`: exit 0, every
#    victim untouched, each bad line logged as FILE:LINE, the registry
#    rewritten with only natd's files; a world-writable sysctl file with the
#    right content is 0644 again;
# C. poisoned again, `natd --teardown`: natd's files gone, the victims not;
# D. ROOT/etc/systemd/network/70-ens6.network.d a symlink to a directory
#    holding a natd.conf: `natd --once` exits 1 naming the symlink, nothing
#    is written through it; `natd --teardown` (the registry lists the
#    drop-in) removes the sysctl file, exits 1 naming the symlink, and the
#    symlink, the file behind it and the drop-in's line in the registry stay.
# Usage: file-safety.sh PATH-TO-natd   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

lib_init integration.file-safety "$@"
vpc_create card
write_config etc/natd/natd.conf <<EOC
[Interfaces]
WaitTimeoutSec=10s

[Routes]
Subnets=$SUBNETS
EOC
eni_plug
eni_name card

SYSCTL=etc/sysctl.d/90-natd.conf
DROPIN_DIR=etc/systemd/network/70-$PRIV_DEV.network.d
DROPIN=$DROPIN_DIR/natd.conf
REGISTRY=var/lib/natd/files

# run_natd LABEL ARGS...: natd --root ROOT ARGS in the NAT instance, at most
# 60 s; its output in $T/LABEL.out, its exit status in RC.
run_natd() {
    local label=$1
    shift
    RC=0
    timeout 60 ip netns exec "$NS_NAT" "$NATD" --root "$ROOT" "$@" >"$T/$label.out" 2>&1 || RC=$?
    ((RC != 124)) || fail "$label: natd $* did not exit within 60s"
}
# expect_log LABEL TEXT: natd's output of LABEL holds TEXT.
expect_log() {
    grep -qF -- "$2" "$T/$1.out" ||
        fail "$1: natd did not say '$2'; it said:"$'\n'"$(cat "$T/$1.out")"
}
# mode_of FILE-UNDER-ROOT
mode_of() {
    stat -c %a "$ROOT/$1"
}

# --- A. umask 000 ---------------------------------------------------------------------
saved_umask=$(umask)
umask 000
run_natd A --once
umask "$saved_umask"
((RC == 0)) || fail "A. umask 000; natd --once exited $RC:"$'\n'"$(cat "$T/A.out")"
declare -A want=(
    [etc/sysctl.d]=755 [etc/systemd]=755 [etc/systemd/network]=755 [$DROPIN_DIR]=755
    [var]=755 [var/lib]=755 [var/lib/natd]=755
    [$SYSCTL]=644 [$DROPIN]=644 [$REGISTRY]=600
)
for path in "${!want[@]}"; do
    [[ -e $ROOT/$path ]] || fail "A. natd --once did not create $path"
    got=$(mode_of "$path")
    [[ $got == "${want[$path]}" ]] ||
        fail "A. under umask 000, $path has mode $got, expected ${want[$path]}"
done
pass "A. umask 000; natd --once: directories 0755, $SYSCTL and $DROPIN 0644, $REGISTRY 0600"

# --- B. a poisoned registry and natd --once ------------------------------------------------
printf 'beside the root\n' >"$T/outside-victim"
printf 'outside the root\n' >"$T/abs-victim"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'relative\n' >"$ROOT/relative"
mkdir -p "$ROOT/etc/systemd/network/a/b.network.d"
printf '[Route]\n' >"$ROOT/etc/systemd/network/a/b.network.d/natd.conf"
VICTIMS=("$T/outside-victim" "$T/abs-victim" "$ROOT/etc/passwd" "$ROOT/relative"
    "$ROOT/etc/systemd/network/a/b.network.d/natd.conf")
victims_before=$(sha256sum "${VICTIMS[@]}")
# poison: natd's own record followed by lines natd must not trust.
poison() {
    {
        cat "$ROOT/$REGISTRY"
        printf '%s\n' /../outside-victim "$T/abs-victim" /etc/passwd relative \
            /etc/systemd/network/a/b.network.d/natd.conf
    } >"$T/registry.poisoned"
    cp "$T/registry.poisoned" "$ROOT/$REGISTRY"
    POISON_LINE=$(grep -nxF /../outside-victim "$ROOT/$REGISTRY" | cut -d: -f1)
}
# check_victims WHAT: every victim byte for byte as before.
check_victims() {
    local now
    now=$(sha256sum "${VICTIMS[@]}" 2>&1) ||
        fail "$1: a victim is gone:"$'\n'"$now"
    [[ $now == "$victims_before" ]] || fail "$1: a victim changed:"$'\n'"$(diff <(echo "$victims_before") <(echo "$now"))"
    pass "$1: ${#VICTIMS[@]} files named by poisoned lines untouched (beside ROOT, outside ROOT, in ROOT)"
}
poison
# What an older natd left under umask 000: the content is right, the mode not.
chmod 666 "$ROOT/$SYSCTL"
run_natd B --once
((RC == 0)) || fail "B. natd --once with a poisoned registry exited $RC:"$'\n'"$(cat "$T/B.out")"
check_victims "B. natd --once"
expect_log B "$ROOT/$REGISTRY:$POISON_LINE: ignoring \"/../outside-victim\": not a file natd writes"
expect_log B "$ROOT/$REGISTRY:$((POISON_LINE + 1)): ignoring \"$T/abs-victim\""
expect_log B "ignoring \"/etc/passwd\""
pass "B. each poisoned line logged as $REGISTRY:LINE"
out=$(grep -v '^#' "$ROOT/$REGISTRY" | sort)
[[ $out == "$(printf '/%s\n' "$SYSCTL" "$DROPIN" | sort)" ]] ||
    fail "B. the registry should list natd's two files only, it holds:"$'\n'"$(cat "$ROOT/$REGISTRY")"
[[ $(mode_of "$REGISTRY") == 600 ]] || fail "B. the rewritten registry has mode $(mode_of "$REGISTRY")"
[[ -f $ROOT/$SYSCTL && -f $ROOT/$DROPIN ]] || fail "B. natd's own files are missing"
pass "B. the registry rewritten (0600) with natd's two files, the bad lines dropped"
[[ $(mode_of "$SYSCTL") == 644 ]] || fail "B. $SYSCTL (unchanged content) kept mode $(mode_of "$SYSCTL")"
pass "B. $SYSCTL, world-writable with the right content, is 0644 again"

# --- C. a poisoned registry and natd --teardown ----------------------------------------------
poison
run_natd C --teardown
((RC == 0)) || fail "C. natd --teardown with a poisoned registry exited $RC:"$'\n'"$(cat "$T/C.out")"
check_victims "C. natd --teardown"
expect_log C "$ROOT/$REGISTRY:$POISON_LINE: ignoring \"/../outside-victim\""
for path in "$SYSCTL" "$DROPIN" "$DROPIN_DIR" var/lib/natd; do
    [[ ! -e $ROOT/$path ]] || fail "C. natd --teardown left $path"
done
pass "C. natd --teardown removed $SYSCTL, $DROPIN and var/lib/natd, logged the bad lines"

# --- D. a symlinked drop-in directory ----------------------------------------------------
mkdir -p "$T/elsewhere"
printf 'not natd'"'"'s\n' >"$T/elsewhere/natd.conf"
ln -s "$T/elsewhere" "$ROOT/$DROPIN_DIR"
elsewhere_before=$(cd "$T/elsewhere" && ls -A && sha256sum natd.conf)
check_elsewhere() {
    [[ -L $ROOT/$DROPIN_DIR ]] || fail "$1: the symlink $DROPIN_DIR is gone"
    [[ $(cd "$T/elsewhere" && ls -A && sha256sum natd.conf) == "$elsewhere_before" ]] ||
        fail "$1: natd wrote through the symlink: $(ls -la "$T/elsewhere")"
    pass "$1: the symlink and the directory behind it untouched"
}
message="$ROOT/$DROPIN_DIR: is a symbolic link, not writing through it"
run_natd D1 --once
((RC == 1)) || fail "D. natd --once with a symlinked $DROPIN_DIR exited $RC, expected 1:"$'\n'"$(cat "$T/D1.out")"
expect_log D1 "$message"
pass "D. natd --once exits 1: $message"
check_elsewhere "D. natd --once"
grep -qxF "/$DROPIN" "$ROOT/$REGISTRY" ||
    fail "D. the registry does not list the drop-in natd meant to write:"$'\n'"$(cat "$ROOT/$REGISTRY")"
run_natd D2 --teardown
((RC == 1)) || fail "D. natd --teardown with a symlinked $DROPIN_DIR exited $RC, expected 1:"$'\n'"$(cat "$T/D2.out")"
expect_log D2 "$message"
pass "D. natd --teardown exits 1: $message"
[[ ! -e $ROOT/$SYSCTL ]] || fail "D. natd --teardown did not remove $SYSCTL, which it could"
[[ $(grep -v '^#' "$ROOT/$REGISTRY") == "/$DROPIN" ]] ||
    fail "D. after the teardown the registry should list only /$DROPIN:"$'\n'"$(cat "$ROOT/$REGISTRY")"
pass "D. natd --teardown removed $SYSCTL all the same; the registry still lists the drop-in"
check_elsewhere "D. natd --teardown"
