#!/usr/bin/env bash
# deploy/terraform and deploy/packer without AWS or terraform: builds
# hcl-dump.go against Debian's HCL v2 library (the parser Terraform and
# Packer use; golang-go, golang-github-hashicorp-hcl-v2-dev), which must
# parse every .tf and .pkr.hcl file, then runs hcl-check.py (see there) on
# what it read, and shellcheck on the user data rendered for each mode.
# Usage: hcl.sh SOURCE-DIR BUILD-DIR
set -euo pipefail
src=$(realpath "${1:?usage: $0 SOURCE-DIR BUILD-DIR}")
build=$(realpath "${2:?usage: $0 SOURCE-DIR BUILD-DIR}")
name=deploy.hcl
fail() {
    printf '[%s] FAIL %s\n' "$name" "$*" >&2
    exit 1
}
gocode=/usr/share/gocode
for tool in go shellcheck /usr/bin/python3; do
    command -v "$tool" >/dev/null || fail "'$tool' is missing: run tests/install-deps.sh"
done
[[ -d $gocode/src/github.com/hashicorp/hcl/v2 ]] ||
    fail "no HCL v2 library in $gocode: run tests/install-deps.sh (golang-github-hashicorp-hcl-v2-dev)"

out=$build/deploy-tests
mkdir -p "$out"
# GOPATH mode on Debian's packaged sources: nothing is downloaded.
if ! err=$(cd "$out" && GO111MODULE=off GOPATH=$gocode GOCACHE=$out/go-cache GOFLAGS='' \
    go build -o "$out/hcl-dump" "$src/tests/deploy/hcl-dump.go" 2>&1); then
    fail "go build hcl-dump.go: $err"
fi
mapfile -t files < <(find "$src/deploy" -name '*.tf' -o -name '*.pkr.hcl' | sort)
((${#files[@]} >= 5)) || fail "only ${#files[@]} HCL files under $src/deploy"
if ! "$out/hcl-dump" "${files[@]}" >"$out/hcl.json" 2>"$out/hcl-dump.err"; then
    fail "HCL syntax errors: $(cat "$out/hcl-dump.err")"
fi
printf '[%s] PASS %d HCL files parse with HCL v2: %s\n' "$name" "${#files[@]}" "${files[*]#"$src/"}"

# The test's variable sets must all have the same keys (checked against
# templatefile's by hcl-check.py).
/usr/bin/python3 - "$src/tests/deploy/vars" >"$out/vars-keys.json" <<'PY' || fail "tests/deploy/vars: the modes' variables differ"
import json, os, sys
d = sys.argv[1]
keys = [sorted(json.load(open(os.path.join(d, f)))) for f in sorted(os.listdir(d))]
assert keys and all(k == keys[0] for k in keys), keys
print(json.dumps(keys[0]))
PY
/usr/bin/python3 "$src/tests/deploy/hcl-check.py" "$src" "$out/hcl.json" "$out/vars-keys.json"

for vars in "$src"/tests/deploy/vars/*.json; do
    mode=$(basename "$vars" .json)
    /usr/bin/python3 "$src/tests/deploy/render.py" "$src/deploy/terraform/user-data.sh.tftpl" "$vars" >"$out/user-data.$mode.sh" ||
        fail "render.py failed for $mode"
    err=$(shellcheck -s bash "$out/user-data.$mode.sh" 2>&1) || fail "the user data rendered for $mode: $err"
    printf '[%s] PASS the user data rendered for %s is shellcheck clean\n' "$name" "$mode"
done
printf '[%s] OK\n' "$name"
