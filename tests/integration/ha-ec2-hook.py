#!/usr/bin/python3
"""fake-ec2.py's hook for the simulated HA VPC (ha-lib.sh): makes the lab
follow what the fake EC2 API just changed.

  ha-ec2-hook.py ACTION ARGS...     (environment: HA_LAB_MAP, HA_EC2_STATE,
                                     HA_VPC_NS)

ReplaceRoute RTB DEST ENI: the VPC router's default route goes via that
private ENI's address (the route table the private subnets use).
Assign/UnassignPrivateIpAddresses: each instance's fake IMDS lists its
public ENI's addresses as the EC2 state now has them (local-ipv4s).

HA_LAB_MAP (JSON): {"ENI-ID": {"address": "10.0.1.11"} for a private ENI,
{"mac": "...", "primary": "10.0.0.11", "control": "FILE"} for a public one}.
"""

import json
import os
import subprocess
import sys


def main():
    with open(os.environ["HA_LAB_MAP"]) as f:
        lab = json.load(f)
    action, args = sys.argv[1], sys.argv[2:]
    if action == "ReplaceRoute":
        eni = args[2]
        address = lab.get(eni, {}).get("address")
        if address is None:
            return 0  # not a private ENI of the lab: nothing routes there
        subprocess.run(["ip", "-n", os.environ["HA_VPC_NS"], "route", "replace", "default",
                        "via", address], check=True)
        return 0
    with open(os.environ["HA_EC2_STATE"]) as f:
        state = json.load(f)
    for eni, info in lab.items():
        if "control" not in info:
            continue
        secondary = [a for a in state["enis"].get(eni, []) if a != info["primary"]]
        try:
            with open(info["control"]) as f:
                control = json.load(f)
        except FileNotFoundError:
            control = {}
        control.setdefault("enis", {})[info["mac"]] = {
            "local-ipv4s": "\n".join([info["primary"], *secondary])}
        tmp = info["control"] + ".tmp"
        with open(tmp, "w") as f:
            json.dump(control, f)
        os.replace(tmp, info["control"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
