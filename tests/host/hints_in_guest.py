#!/usr/bin/env python3
"""Host check of testvmm --hints-mode guest, on the host's own KVM: the guest
payload publishes its hints in the region at each change (duty: idle around
each halt; lock: a critical section around each hold). Reads the backing file
with its own parser of docs/guest-abi.md (not the agent's) while two VMs run,
and checks what the payloads did against it:

  - the header (magic, ABI 1, vCPU count, features idle + cs + heartbeat);
  - every vCPU slot online (a snapshot caught mid-write, seq odd, is skipped), its
    heartbeat and guest clock never going back, since-times not after now;
  - duty: both idle and busy seen on each vCPU; at the end, 2 idle transitions
    per wakeup the VMM counted (its latency line);
  - lock: a critical section seen, with cs_since <= now, and none on a duty VM;
  - after the VMM exits: magic 0 and every slot offline ("no guest"), its
    clock and heartbeat not behind what the payload last wrote.

Usage: tests/host/hints_in_guest.py TESTVMM. One PASS or FAIL line; exit 0 or 1.
"""
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

MAGIC, ABI = 0x4E485650, 1
F_IDLE, F_CS, F_HEARTBEAT = 1, 2, 8
ONLINE, IDLE = 1, 2
VCPU_OFF, SLOT = 0x1000, 64
SECS = 2


def fail(msg):
    print(f"FAIL hints_in_guest: {msg}")
    sys.exit(1)


def read_slot(mm, i):
    """vCPU i's slot in the snapshot mm, or None if it was caught mid-write (seq odd)."""
    f = struct.unpack_from("<IIQIIQQQI", mm, VCPU_OFF + i * SLOT)
    if f[0] % 2:
        return None
    return dict(seq=f[0], flags=f[1], idle_since=f[2], cs=f[3], cs_since=f[5],
                heartbeat=f[6], now=f[7], transitions=f[8])


def run(payload, vcpus):
    with tempfile.TemporaryDirectory() as tmp:
        region = os.path.join(tmp, "region")
        vmm = subprocess.Popen([sys.argv[1], "--name", payload, "--vcpus", str(vcpus),
                                "--payload", payload, "--duration", str(SECS),
                                "--hints", region, "--hints-mode", "guest"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 10
        while not (os.path.exists(region) and os.path.getsize(region) >= 0x2000):
            if vmm.poll() is not None or time.monotonic() > deadline:
                fail(f"{payload}: no region from testvmm: {vmm.stdout.read()}")
            time.sleep(0.01)
        seen = [dict(idle=0, busy=0, cs=0, samples=0, last=None) for _ in range(vcpus)]
        while vmm.poll() is None:
            with open(region, "rb") as fh:
                mm = fh.read(0x2000)
            magic, abi, nr, feat = struct.unpack_from("<IIII", mm, 0)
            if magic == 0:  # written last at the start, first at the end
                time.sleep(0.002)
                continue
            if (magic, abi, nr, feat) != (MAGIC, ABI, vcpus, F_IDLE | F_CS | F_HEARTBEAT):
                fail(f"{payload}: header magic {magic:#x} abi {abi} vcpus {nr} features {feat:#x}")
            for i in range(vcpus):
                s = read_slot(mm, i)
                if not s or not s["flags"] & ONLINE:
                    continue
                v, last = seen[i], seen[i]["last"]
                if last and (s["heartbeat"] < last["heartbeat"] or s["now"] < last["now"]):
                    fail(f"{payload}: vCPU {i}'s heartbeat or clock went back: {last} then {s}")
                if s["idle_since"] > s["now"] or (s["cs"] and s["cs_since"] > s["now"]):
                    fail(f"{payload}: vCPU {i}'s since-time is after its now: {s}")
                v["idle" if s["flags"] & IDLE else "busy"] += 1
                v["cs"] += s["cs"] > 0
                v["samples"] += 1
                v["last"] = s
            time.sleep(0.002)
        out = vmm.stdout.read()
        if vmm.returncode != 0 or "status=ok" not in out:
            fail(f"{payload}: testvmm exited {vmm.returncode}: {out[-400:]}")
        with open(region, "rb") as fh:
            end = fh.read(0x2000)
        if struct.unpack_from("<I", end, 0)[0] != 0:
            fail(f"{payload}: magic still set after the VMM's exit")
        for i in range(vcpus):
            s = read_slot(end, i)
            if s is None:
                fail(f"{payload}: vCPU {i}'s seqcount left odd after the VMM's exit")
            if s["flags"] & ONLINE:
                fail(f"{payload}: vCPU {i} still online after the VMM's exit")
            last = seen[i]["last"]
            if last and (s["now"] < last["now"] or s["heartbeat"] < last["heartbeat"]):
                fail(f"{payload}: vCPU {i}'s exit write went back in time: {last} then {s}")
            if not seen[i]["samples"]:
                fail(f"{payload}: vCPU {i} never published a slot")
        return out, seen, [read_slot(end, i) for i in range(vcpus)]


def main():
    if len(sys.argv) != 2:
        fail("usage: hints_in_guest.py TESTVMM")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        fail("/dev/kvm is missing or not usable here (the check runs testvmm on the host's KVM)")
    out, seen, end = run("duty", 2)
    notes = []
    for i, v in enumerate(seen):
        if not v["idle"] or not v["busy"]:
            fail(f"duty vCPU {i}: idle in {v['idle']} and busy in {v['busy']} of {v['samples']} samples")
        if v["cs"]:
            fail(f"duty vCPU {i}: a critical section in {v['cs']} samples, the payload takes no lock")
        # The last latency line: the whole run (earlier ones are periodic).
        m = re.findall(rf"latency vm=duty vcpu={i} wakes=(\d+)", out)
        if not m:
            fail(f"duty: no latency line for vCPU {i}: {out[-300:]}")
        wakes, transitions = int(m[-1]), end[i]["transitions"]
        # Each wakeup: idle before its halt, busy after it; the VMM counts wakes at its exit.
        if abs(transitions - 2 * wakes) > 4:
            fail(f"duty vCPU {i}: {transitions} idle transitions for {wakes} wakeups")
        notes.append(f"vCPU {i} idle in {v['idle']}/{v['samples']} samples, "
                     f"{transitions} transitions for {wakes} wakes")
    out, seen, end = run("lock", 2)
    if not any(v["cs"] for v in seen):
        fail(f"lock: no critical section seen in {sum(v['samples'] for v in seen)} samples")
    for i, v in enumerate(seen):
        if v["idle"]:
            fail(f"lock vCPU {i}: idle in {v['idle']} samples, the payload never halts")
    notes.append("lock: in a critical section in " +
                 ", ".join(f"{v['cs']}/{v['samples']}" for v in seen) + " samples")
    print("PASS hints_in_guest: duty " + "; ".join(notes))


if __name__ == "__main__":
    main()
