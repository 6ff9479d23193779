#!/usr/bin/python3
"""Reads `nft -j` or `ip -j route` output on stdin and answers one question.

  inspect.py counter drop PUB PRIV   packets counted by the rule(s)
                                     "iifname PUB oifname PRIV counter drop"
  inspect.py counter masquerade PUB PRIV
                                     packets counted by the masquerade rule
                                     for "oifname PUB" (and iifname PRIV)
  inspect.py routes GATEWAY DEV PRESENT_CIDRS ABSENT_CIDRS
                                     CIDR lists comma separated: each PRESENT
                                     route must be "via GATEWAY dev DEV
                                     onlink"; no ABSENT one may have a gateway

Exit status: 0 yes (the answer on stdout), 1 no (the reason on stderr).
"""

import json
import sys


def fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def rule_summary(exprs: list) -> dict:
    """Flatten one nft JSON rule into {meta key: value, verdict..., counter}."""
    out: dict = {"verdicts": set()}
    for e in exprs:
        if "match" in e:
            left = e["match"].get("left", {})
            if isinstance(left, dict) and "meta" in left:
                key = left["meta"].get("key")
                # iif and iifname both print the interface's name.
                key = {"iif": "iifname", "oif": "oifname"}.get(key, key)
                out[key] = e["match"].get("right")
        elif "counter" in e:
            c = e["counter"]
            out["counter"] = c.get("packets", 0) if isinstance(c, dict) else 0
        else:
            out["verdicts"].update(k for k in e if k in ("drop", "accept", "masquerade", "reject"))
    return out


def counter(verdict: str, pub: str, priv: str) -> int:
    doc = json.load(sys.stdin)
    rules = [
        (r["rule"].get("chain"), rule_summary(r["rule"].get("expr", [])))
        for r in doc.get("nftables", [])
        if "rule" in r
    ]
    want = {"drop": {"iifname": pub, "oifname": priv}, "masquerade": {"oifname": pub}}[verdict]
    total, found = 0, 0
    for _, r in rules:
        if verdict not in r["verdicts"]:
            continue
        if any(r.get(k) != v for k, v in want.items()):
            continue
        if verdict == "masquerade" and r.get("iifname", priv) != priv:
            continue
        if "counter" not in r:
            return fail(f"the {verdict} rule for {want} has no counter")
        total += r["counter"]
        found += 1
    if not found:
        seen = "; ".join(f"{c}: {sorted(set(r) - {'verdicts'})} {sorted(r['verdicts'])}" for c, r in rules)
        return fail(f"no rule '{' '.join(f'{k} {v}' for k, v in want.items())} counter {verdict}' "
                    f"in table ip natd (rules: {seen or 'none'})")
    print(total)
    return 0


def routes(gateway: str, dev: str, present: str, absent: str) -> int:
    table = json.load(sys.stdin)
    problems = []
    for cidr in filter(None, present.split(",")):
        mine = [r for r in table if r.get("dst") == cidr]
        good = [r for r in mine
                if r.get("gateway") == gateway and r.get("dev") == dev and "onlink" in r.get("flags", [])]
        if not good:
            problems.append(f"missing route '{cidr} via {gateway} dev {dev} onlink' (routes for {cidr}: "
                            f"{json.dumps(mine) if mine else 'none'})")
    for cidr in filter(None, absent.split(",")):
        bad = [r for r in table if r.get("dst") == cidr and "gateway" in r]
        if bad:
            problems.append(f"unexpected gateway route for {cidr}: {json.dumps(bad)}")
    if problems:
        return fail("\n".join(problems))
    print("ok")
    return 0


def main(argv: list) -> int:
    if len(argv) == 5 and argv[1] == "counter" and argv[2] in ("drop", "masquerade"):
        return counter(argv[2], argv[3], argv[4])
    if len(argv) == 6 and argv[1] == "routes":
        return routes(*argv[2:])
    return fail(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
