#!/usr/bin/python3
"""Compares the io.natd1.* interfaces of two D-Bus introspection documents.

Usage: introspection.py EXPECTED.xml < ACTUAL.xml

EXPECTED is doc/io.natd1.xml, ACTUAL what the running natd answered to
org.freedesktop.DBus.Introspectable.Introspect on /io/natd1. Each document
is parsed (xml.etree) and reduced to, per interface: its annotations, and
per method its arguments (direction, type, name) and annotations, per
property its type, access and annotations, per signal its arguments and
annotations. Order, whitespace, comments and the standard
org.freedesktop.DBus.* interfaces do not matter; anything else that differs
is printed, and the exit status is 1. Exit 0 prints a one-line summary.
"""

import sys
import xml.etree.ElementTree as ET

PREFIX = "io.natd1."


def annotations(element):
    return {a.get("name"): a.get("value") for a in element.findall("annotation")}


def arguments(element, default_direction):
    return [
        (a.get("direction", default_direction), a.get("type"), a.get("name"))
        for a in element.findall("arg")
    ]


def normalise(text, what):
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        sys.exit(f"{what}: not XML: {e}")
    if root.tag != "node":
        sys.exit(f"{what}: the root element is <{root.tag}>, not <node>")
    interfaces = {}
    for interface in root.findall("interface"):
        name = interface.get("name")
        if not name.startswith(PREFIX):
            continue
        members = {"annotations": annotations(interface)}
        for method in interface.findall("method"):
            members[f"method {method.get('name')}"] = {
                "args": arguments(method, "in"),
                "annotations": annotations(method),
            }
        for prop in interface.findall("property"):
            members[f"property {prop.get('name')}"] = {
                "type": prop.get("type"),
                "access": prop.get("access"),
                "annotations": annotations(prop),
            }
        for signal in interface.findall("signal"):
            members[f"signal {signal.get('name')}"] = {
                "args": arguments(signal, "out"),
                "annotations": annotations(signal),
            }
        interfaces[name] = members
    return interfaces


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        expected = normalise(f.read(), sys.argv[1])
    actual = normalise(sys.stdin.read(), "natd's Introspect answer")
    if not expected:
        sys.exit(f"{sys.argv[1]}: no {PREFIX}* interface")

    problems = []
    for name in sorted(expected.keys() | actual.keys()):
        if name not in actual:
            problems.append(f"{name}: documented, natd does not export it")
            continue
        if name not in expected:
            problems.append(f"{name}: natd exports it, {sys.argv[1]} does not have it")
            continue
        want, got = expected[name], actual[name]
        for member in sorted(want.keys() | got.keys()):
            if member not in got:
                problems.append(f"{name} {member}: documented, natd does not have it")
            elif member not in want:
                problems.append(f"{name} {member}: natd has it, undocumented: {got[member]}")
            elif want[member] != got[member]:
                problems.append(
                    f"{name} {member}: documented {want[member]}, natd has {got[member]}")
    if problems:
        print("\n".join(problems))
        return 1
    counts = ", ".join(f"{name} {len(members) - 1} members" for name, members in
                       sorted(expected.items()))
    print(f"natd's introspection matches {sys.argv[1]}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
