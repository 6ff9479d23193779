#!/bin/bash
# Runs every libFuzzer target for a bounded time and fails on any finding.
#   fuzz/run.sh [--seconds N] [--jobs J] [--build DIR] [TARGET...]
# Configures and builds the clang tree (default build-fuzz/, NATD_FUZZ=ON),
# then runs each target (default: all) for N seconds (default 60), J at a
# time (default 2), on a copy of fuzz/corpus/TARGET plus
# fuzz/regressions/TARGET: the repository's corpus never grows here. A
# crash, a leak, a timeout or an out-of-memory fails the run, printing the
# reproducer and the command that replays it; fuzz/README.md says how a
# finding becomes a regression test.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(dirname "$here")
seconds=60
jobs=2
build=$source_dir/build-fuzz
targets=()
while (($#)); do
    case $1 in
        --seconds) seconds=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --build) build=$(realpath -m "$2"); shift 2 ;;
        -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
if ((${#targets[@]} == 0)); then
    for dir in "$here"/corpus/*/; do
        targets+=("$(basename "$dir")")
    done
fi

# The longest input worth trying, per target: a little above the largest
# real one (configurations with drop-ins and netlink dumps are the big
# ones), so the fuzzer's time goes to structure rather than to length.
max_len() {
    case $1 in
        config | nft-ruleset | link-message | route-message | nft-events) echo 16384 ;;
        ec2-response) echo 8192 ;;
        *) echo 4096 ;;
    esac
}

echo "== building the fuzz targets in $build"
if [[ ! -f $build/CMakeCache.txt ]]; then
    CC=clang CXX=clang++ cmake -S "$source_dir" -B "$build" -G Ninja -DNATD_FUZZ=ON \
        -DNATD_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
nice -n 19 cmake --build "$build" -j "$jobs" --target fuzz-all

work=$(mktemp -d -t natd-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "== fuzzing ${#targets[@]} targets for ${seconds}s each, $jobs at a time (scratch: $work)"

# One target: its corpus copied to scratch, libFuzzer's artifacts in
# scratch too; on a finding they are moved to $build/fuzz/findings/ so
# they outlive the scratch directory.
fuzz_one() {
    local name=$1 binary=$build/fuzz/fuzz-$1 dir=$work/$1
    mkdir -p "$dir/corpus" "$dir/artifacts"
    cp "$here/corpus/$name"/* "$dir/corpus/"
    if [[ -d $here/regressions/$name ]]; then
        cp "$here/regressions/$name"/* "$dir/corpus/" 2>/dev/null || true
    fi
    local status=0
    nice -n 19 "$binary" -max_total_time="$seconds" -max_len="$(max_len "$name")" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$dir/log" 2>&1 || status=$?
    local execs runs_per_sec
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
    runs_per_sec=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
    if ((status == 0)); then
        printf '%-18s ok      %10s runs  %7s exec/s  %s inputs\n' "$name" "${execs:-?}" \
            "${runs_per_sec:-?}" "$(find "$dir/corpus" -type f | wc -l)"
        return 0
    fi
    mkdir -p "$build/fuzz/findings/$name"
    printf '%-18s FAILED  (exit %d)\n' "$name" "$status"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$dir/log" | head -5 | sed 's/^/    /'
    cp "$dir/log" "$build/fuzz/findings/$name/log"
    for artifact in "$dir/artifacts"/*; do
        [[ -e $artifact ]] || continue
        cp "$artifact" "$build/fuzz/findings/$name/"
        echo "    reproducer: $build/fuzz/findings/$name/$(basename "$artifact")"
        echo "    reproduce:  $binary $build/fuzz/findings/$name/$(basename "$artifact")"
    done
    echo "    log: $build/fuzz/findings/$name/log"
    return 1
}

start=$SECONDS
failed=0
running=0
for name in "${targets[@]}"; do
    if [[ ! -x $build/fuzz/fuzz-$name ]]; then
        echo "$name: no fuzz target $build/fuzz/fuzz-$name" >&2
        failed=1
        continue
    fi
    fuzz_one "$name" &
    running=$((running + 1))
    if ((running >= jobs)); then
        wait -n || failed=1
        running=$((running - 1))
    fi
done
while ((running > 0)); do
    wait -n || failed=1
    running=$((running - 1))
done
echo "== fuzzing took $((SECONDS - start))s"
if ((failed)); then
    echo "fuzzing FAILED: see the reproducers above" >&2
    exit 1
fi
echo "fuzzing passed"
