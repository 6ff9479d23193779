#!/usr/bin/python3
"""clang-tidy on one source file, skipped when a clean run already had
exactly the same input (the lint.clang-tidy.* tests, tests/CMakeLists.txt).

  clang-tidy-cached.py CLANG_TIDY BUILD_DIR SOURCE_DIR FILE

The input is: clang-tidy's version, .clang-tidy, FILE's compile command from
BUILD_DIR/compile_commands.json (SOURCE_DIR and BUILD_DIR replaced, so that
another checkout shares the result) and the content of every file the
compiler reads for FILE (`-M`: the file, natd's headers, system headers).
A clean run (exit 0) leaves an empty file named by the input's SHA-256 in
$NATD_TIDY_CACHE (default ~/.cache/natd-clang-tidy; "none": no cache); a
failing run leaves nothing, so it runs again next time.
"""

import hashlib
import json
import os
import shlex
import subprocess
import sys


def compile_entry(build_dir: str, path: str) -> dict:
    with open(os.path.join(build_dir, "compile_commands.json"), encoding="utf-8") as f:
        for entry in json.load(f):
            if os.path.realpath(entry["file"]) == os.path.realpath(path):
                return entry
    raise SystemExit(f"clang-tidy-cached: {path} is not in {build_dir}/compile_commands.json")


def dependencies(entry: dict) -> list:
    """The files the compiler reads for entry's source, in its order."""
    args = shlex.split(entry["command"])
    kept, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == "-o":
            skip = True
        elif a != "-c":
            kept.append(a)
    out = subprocess.run(kept + ["-M"], cwd=entry["directory"], check=True,
                         capture_output=True, text=True).stdout
    words = out.replace("\\\n", " ").split()
    return [w for w in words[1:] if w != "\\"]  # words[0] is the target "x.o:"


def input_key(tidy: str, build_dir: str, source_dir: str, path: str) -> str:
    entry = compile_entry(build_dir, path)
    h = hashlib.sha256()
    h.update(subprocess.run([tidy, "--version"], check=True, capture_output=True).stdout)
    with open(os.path.join(source_dir, ".clang-tidy"), "rb") as f:
        h.update(f.read())
    command = entry["command"].replace(os.path.realpath(build_dir), "@BUILD@")
    command = command.replace(os.path.realpath(source_dir), "@SOURCE@")
    h.update(command.encode())
    for dep in dependencies(entry):
        h.update(b"\0" + os.path.relpath(dep, source_dir).encode() if dep.startswith(source_dir)
                 else b"\0" + dep.encode())
        with open(os.path.join(entry["directory"], dep), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def main() -> int:
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    tidy, build_dir, source_dir, path = sys.argv[1:]
    build_dir, source_dir = os.path.realpath(build_dir), os.path.realpath(source_dir)
    cache = os.environ.get("NATD_TIDY_CACHE",
                           os.path.join(os.path.expanduser("~"), ".cache", "natd-clang-tidy"))
    stamp = None
    if cache != "none":
        try:
            stamp = os.path.join(cache, input_key(tidy, build_dir, source_dir, path))
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"clang-tidy-cached: no cache key for {path} ({e}): running clang-tidy")
        if stamp and os.path.exists(stamp):
            print(f"clang-tidy: {path} clean (the same input passed before: {stamp})")
            return 0
    rc = subprocess.run([tidy, "-p", build_dir, "--quiet", path]).returncode
    if rc == 0 and stamp:
        os.makedirs(cache, exist_ok=True)
        open(stamp, "w", encoding="utf-8").close()
    return rc


if __name__ == "__main__":
    sys.exit(main())
