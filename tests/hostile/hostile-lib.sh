# shellcheck shell=bash
# The hostile configuration corpus, shared by check-config.sh (natd
# --check-config) and tests/integration/hostile-reload.sh (SIGHUP to a
# running natd): where each case's input comes from, the steps that make
# the huge and special ones, and the manifest.
# The caller sets UNPRIVILEGED (a command prefix that runs natd as a user
# the permission cases apply to; empty when not root).

HOSTILE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HOSTILE_CASES=$HOSTILE_DIR/cases
HOSTILE_MANIFEST=$HOSTILE_DIR/cases.tsv

# --- the generated cases ---------------------------------------------------------
# gen_CASE: writes the case under $ETC (the case's /etc/natd). May set
# ARGS (extra natd options) and RUN_AS (a command prefix).

VALID="[Interfaces]
Public=ens5
Private=ens6
[Routes]
Subnets=10.0.2.0/24 10.0.3.0/24"

valid_main() { printf '%s\n' "$VALID" >"$ETC/natd.conf"; }

# A 1,000,000-byte value: the error must still say where, what and why,
# in a bounded message.
gen_long-line-1mb() {
    { printf '[Interfaces]\nPublic='; head -c 1000000 /dev/zero | tr '\0' e; printf '\n'; } >"$ETC/natd.conf"
}
# A 1,000,000-byte comment line is just a comment (the file is < 1 MiB).
gen_long-comment-1mb() {
    { printf '# '; head -c 1000000 /dev/zero | tr '\0' x; printf '\n%s\n' "$VALID"; } >"$ETC/natd.conf"
}
gen_too-large() {
    { printf '[Interfaces]\n# '; head -c $((1024 * 1024)) /dev/zero | tr '\0' x; printf '\n'; } >"$ETC/natd.conf"
}
# 100,000 adjacent /28s from 10.0.0.0, 10,000 a drop-in (one file would
# pass the 1 MiB limit), one a line after [Routes]: block i is in
# 0N-subnets.conf, N = i / 10000, at line i % 10000 + 2.
# natd.conf has no Subnets= (VALID's would overlap the /28s).
subnets_100k() {
    mkdir -p "$ETC/natd.conf.d"
    printf '[Interfaces]\nPublic=ens5\nPrivate=ens6\n' >"$ETC/natd.conf"
    awk -v dir="$ETC/natd.conf.d" 'BEGIN {
        for (i = 0; i < 100000; i++) {
            if (i % 10000 == 0) {
                if (f) close(f)
                f = sprintf("%s/%02d-subnets.conf", dir, i / 10000)
                print "[Routes]" > f
            }
            a = 10 * 16777216 + i * 16
            printf "Subnets=%d.%d.%d.%d/28\n", int(a / 16777216), int(a / 65536) % 256,
                int(a / 256) % 256, a % 256 > f
        }
    }'
}
gen_subnets-100k() { subnets_100k; }
# ... and a /29 inside block 20480, 10.5.0.0/28 (02-subnets.conf:482).
gen_subnets-100k-overlap() {
    subnets_100k
    printf '[Routes]\nSubnets=10.5.0.8/29\n' >"$ETC/natd.conf.d/99-overlap.conf"
}
gen_directory() { mkdir "$ETC/natd.conf"; }
gen_fifo() { mkfifo "$ETC/natd.conf"; }
gen_fifo-dropin() {
    valid_main
    mkdir "$ETC/natd.conf.d"
    mkfifo "$ETC/natd.conf.d/50-fifo.conf"
}
gen_socket-dropin() {
    valid_main
    mkdir "$ETC/natd.conf.d"
    python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
        "$ETC/natd.conf.d/50-socket.conf"
}
gen_symlink-loop() { ln -s natd.conf "$ETC/natd.conf"; }
gen_symlink-loop-dropin() {
    valid_main
    mkdir "$ETC/natd.conf.d"
    ln -s b.conf "$ETC/natd.conf.d/a.conf"
    ln -s a.conf "$ETC/natd.conf.d/b.conf"
}
gen_dangling-symlink() { ln -s /nonexistent/natd.conf "$ETC/natd.conf"; }
gen_dev-zero() { ln -s /dev/zero "$ETC/natd.conf"; }
gen_dev-zero-dropin() {
    valid_main
    mkdir "$ETC/natd.conf.d"
    ln -s /dev/zero "$ETC/natd.conf.d/50-zero.conf"
}
gen_dropin-dir-is-file() {
    valid_main
    printf '[Interfaces]\nPublic=ens7\n' >"$ETC/natd.conf.d"
}
gen_dropin-subdir() {
    valid_main
    mkdir -p "$ETC/natd.conf.d/50-sub.conf"
    printf '[Interfaces]\nPublic=ens7\n' >"$ETC/natd.conf.d/50-sub.conf/x.conf"
}
gen_unreadable() {
    valid_main
    chmod 000 "$ETC/natd.conf"
    RUN_AS=("${UNPRIVILEGED[@]}")
}
gen_unreadable-dropin() {
    valid_main
    mkdir "$ETC/natd.conf.d"
    printf '[Interfaces]\nPublic=ens7\n' >"$ETC/natd.conf.d/50-secret.conf"
    chmod 000 "$ETC/natd.conf.d/50-secret.conf"
    RUN_AS=("${UNPRIVILEGED[@]}")
}
gen_unreadable-dropin-dir() {
    valid_main
    mkdir "$ETC/natd.conf.d"
    chmod 000 "$ETC/natd.conf.d"
    RUN_AS=("${UNPRIVILEGED[@]}")
}
# --config names a file that must be there.
gen_missing-required() { ARGS=(--config /etc/natd/absent.conf); }

# hostile_setup NAME ETC: the input of case NAME as the directory ETC (a
# root's /etc/natd, which must exist and be empty). Sets ARGS (extra natd
# options) and RUN_AS (a command prefix); returns 1 when the case has no
# input.
hostile_setup() {
    local name=$1
    ETC=$2
    # shellcheck disable=SC2034 # for the caller, and set by gen_CASE
    ARGS=() RUN_AS=()
    if [[ -f $HOSTILE_CASES/$name.conf ]]; then
        cp "$HOSTILE_CASES/$name.conf" "$ETC/natd.conf"
    elif [[ -d $HOSTILE_CASES/$name ]]; then
        cp -a "$HOSTILE_CASES/$name/." "$ETC/"
    elif declare -F "gen_$name" >/dev/null; then
        "gen_$name"
    else
        return 1
    fi
}

# hostile_row NAME: the manifest's row of case NAME (tab-separated: CASE,
# EXIT, EXPECTATION...) in the array ROW; returns 1 when there is none.
hostile_row() {
    local line
    while IFS= read -r line; do
        [[ $line == "$1"$'\t'* ]] || continue
        # shellcheck disable=SC2034 # for the caller
        IFS=$'\t' read -r -a ROW <<<"$line"
        return 0
    done <"$HOSTILE_MANIFEST"
    return 1
}
