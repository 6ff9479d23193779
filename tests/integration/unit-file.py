#!/usr/bin/python3
"""Questions about systemd/natd.service for unit-file.sh.

  unit-file.py values UNIT KEY     every value of [Service] KEY, one a line
                                   (in order; an empty assignment resets)
  unit-file.py syscalls UNIT STRACE NATD|-
                                   from an `strace -f` log of natd, check what
                                   natd did after exec'ing NATD (-: the whole
                                   log, strace attached to natd) against the
                                   unit's SystemCallFilter= (expanded with
                                   `systemd-analyze syscall-filter`),
                                   RestrictAddressFamilies= and
                                   MemoryDenyWriteExecute=

Exit status: 0 yes (a summary on stdout), 1 no (the reasons on stderr):
a unit without SystemCallFilter= or a log with no syscall of natd's is a
no, as there is then nothing to check.
"""

import re
import subprocess
import sys


def service_values(unit: str, key: str) -> list:
    values, section = [], None
    for raw in open(unit, encoding="utf-8"):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
            continue
        k, sep, v = line.partition("=")
        if section == "[Service]" and sep and k.strip() == key:
            v = v.strip()
            values = [] if v == "" else values + [v]
    return values


def syscall_groups() -> dict:
    out = subprocess.run(["systemd-analyze", "syscall-filter"], check=True,
                         capture_output=True, text=True).stdout
    groups, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.split()[0], set())
        elif current is not None and line.strip() and not line.strip().startswith("#"):
            current.add(line.strip())
    return groups


def expand(name: str, groups: dict, seen=None) -> set:
    seen = seen or set()
    if not name.startswith("@"):
        return {name}
    if name in seen:
        return set()
    seen.add(name)
    if name not in groups:
        raise SystemExit(f"unknown syscall group {name}")
    result = set()
    for member in groups[name]:
        result |= expand(member, groups, seen)
    return result


def allowed_syscalls(unit: str) -> tuple:
    groups = syscall_groups()
    allowed, denied_groups = None, []
    for value in service_values(unit, "SystemCallFilter"):
        deny = value.startswith("~")
        names = value.lstrip("~").split()
        items = set()
        for n in names:
            items |= expand(n, groups)
        if allowed is None:
            if deny:
                raise SystemExit("unit-file.py: a deny-list first is not handled")
            # systemd adds @default to an allow-list (load-fragment.c).
            allowed = items | expand("@default", groups)
        elif deny:
            allowed -= items
            denied_groups += names
        else:
            allowed |= items
    return allowed, denied_groups, groups


def syscalls(unit: str, log: str, natd: str) -> int:
    allowed, denied_groups, groups = allowed_syscalls(unit)
    if allowed is None:
        print(f"no SystemCallFilter= in {unit}: natd's syscalls cannot be checked", file=sys.stderr)
        return 1
    families = set()
    for v in service_values(unit, "RestrictAddressFamilies"):
        families |= set(v.split())
    mdwe = any(v in ("yes", "true", "1", "on") for v in service_values(unit, "MemoryDenyWriteExecute"))

    call = re.compile(r"^(\d+)\s+(?:<\.\.\. )?([a-z0-9_]+)(?:\(| resumed>)(.*)$")
    started = natd == "-"
    used, problems = {}, []
    for line in open(log, encoding="utf-8", errors="replace"):
        if not started:
            if re.search(r'execve\("' + re.escape(natd) + r'",.*= 0$', line):
                started = True
            continue
        m = call.match(line)
        if not m or "resumed>" in line:
            continue
        name, rest = m.group(2), m.group(3)
        used[name] = used.get(name, 0) + 1
        if name in ("socket", "socketpair"):
            fam = rest.split(",")[0].strip()
            if families and fam not in families:
                problems.append(f"RestrictAddressFamilies={' '.join(sorted(families))}: natd called {line.strip()}")
        if mdwe:
            if name in ("mmap", "mmap2") and "PROT_WRITE" in rest and "PROT_EXEC" in rest:
                problems.append(f"MemoryDenyWriteExecute=yes: {line.strip()}")
            if name in ("mprotect", "pkey_mprotect") and "PROT_EXEC" in rest.split(")")[0]:
                problems.append(f"MemoryDenyWriteExecute=yes: {line.strip()}")
    if not started:
        print(f"no successful execve of {natd} in {log}", file=sys.stderr)
        return 1
    if not used:
        print(f"no syscall of natd's in {log} (did strace trace it?)", file=sys.stderr)
        return 1
    for name in sorted(used):
        if name not in allowed:
            why = [g for g in denied_groups if name in expand(g, groups)]
            problems.append(f"SystemCallFilter: natd called {name}() {used[name]} times; "
                            + (f"denied by ~{' '.join(why)}" if why else "not in the allowed set")
                            + " (EPERM under the unit)")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"{len(used)} distinct syscalls ({sum(used.values())} calls), all allowed by the unit's "
          f"SystemCallFilter= ({len(allowed)} allowed); socket families within "
          f"{' '.join(sorted(families)) or 'any'}; no W+X mapping: {' '.join(sorted(used))}")
    return 0


def main() -> int:
    if len(sys.argv) >= 4 and sys.argv[1] == "values":
        print("\n".join(service_values(sys.argv[2], sys.argv[3])))
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "syscalls":
        return syscalls(sys.argv[2], sys.argv[3], sys.argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
