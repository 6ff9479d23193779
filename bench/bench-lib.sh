# shellcheck shell=bash
# What every benchmark script shares: its figures, printed for bench/run.sh
# (which tabulates them in bench/results.md and guards them in CI), and
# their statistics. Sourced after tests/integration/lib.sh (for $PY).
#
#   RESULT <bench>.<metric> <value> <unit> <lower|higher> <target>
#   NOTE <bench> <text>
#
# <lower|higher>: which way is better; <target>: "<=2", ">=0.97" or "-".

# result NAME VALUE UNIT BETTER TARGET
result() {
    printf 'RESULT %s %s %s %s %s\n' "$1" "$2" "$3" "$4" "${5:--}"
}

# note BENCH TEXT...
note() {
    local bench=$1
    shift
    printf 'NOTE %s %s\n' "$bench" "$*"
}

# quantile Q VALUE...: the nearest-rank Q-quantile (0.5, 0.99, 1) of the values.
quantile() {
    local q=$1
    shift
    printf '%s\n' "$@" | "$PY" -c '
import math, sys
q, v = float(sys.argv[1]), sorted(float(x) for x in sys.stdin.read().split())
x = v[max(0, math.ceil(q * len(v)) - 1)]
print(f"{x:.3f}".rstrip("0").rstrip("."))' "$q"
}

# ratio A B: A / B with three significant decimals.
ratio() {
    "$PY" -c 'import sys; a, b = map(float, sys.argv[1:]); print(f"{a / b:.3f}" if b else "inf")' "$1" "$2"
}

# linear_fit X:Y...: "SLOPE INTERCEPT R2" of a least-squares line.
linear_fit() {
    "$PY" -c '
import sys
pts = [tuple(map(float, a.split(":"))) for a in sys.argv[1:]]
n = len(pts); mx = sum(x for x, _ in pts) / n; my = sum(y for _, y in pts) / n
sxx = sum((x - mx) ** 2 for x, _ in pts); sxy = sum((x - mx) * (y - my) for x, y in pts)
slope = sxy / sxx if sxx else 0.0; icpt = my - slope * mx
syy = sum((y - my) ** 2 for _, y in pts)
r2 = (sxy * sxy) / (sxx * syy) if sxx and syy else 1.0
print(f"{slope:.6g} {icpt:.6g} {r2:.4f}")' "$@"
}

# us_to_ms US: microseconds as milliseconds, three decimals.
us_to_ms() {
    "$PY" -c 'import sys; print(f"{float(sys.argv[1]) / 1000:.3f}")' "$1"
}
