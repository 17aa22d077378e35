#!/usr/bin/env python3
"""Many test VMs at once for tests/vm/fleet.sh: one interpreter does what
hundreds of vmm-schedctl, grep and cat processes would (each fork is slow
under the emulator).

  fleet.py enroll SOCKET NAME=PID...   enrol each; stops at the first refusal
  fleet.py release SOCKET PID...       release each; stops at the first refusal
  fleet.py units LOG...                "NAME UNITS" of vCPU 0, from each log's latest progress line
  fleet.py stalled BEFORE LOG...       the VMs whose units did not grow since BEFORE (a units file)
  fleet.py policies TID...             "POLICY COUNT" of the threads' scheduling policies
  fleet.py progstats                   "PROG RUN_CNT RUN_TIME_NS" of the loaded vmm_sched
                                       struct_ops programs (bpftool; needs kernel.bpf_stats_enabled)
  fleet.py cost BEFORE AFTER           "PROG CALLS NS_PER_CALL" between two progstats files
  fleet.py ratio LABEL_A COST_A LABEL_B COST_B   a Markdown table of both costs and B/A
"""
import json
import re
import socket
import subprocess
import sys

PROTOCOL_VERSION = 1
# The scheduler's struct_ops programs (bpf/vmm_sched.bpf.c, vmm_sched_ops).
PROGS = ("vs_select_cpu", "vs_enqueue", "vs_set_cpumask", "vs_dispatch", "vs_tick", "vs_yield",
         "vs_runnable", "vs_running", "vs_stopping", "vs_quiescent", "vs_enable", "vs_disable")


def call_once(sock_path, request):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(60)
        s.connect(sock_path)
        s.sendall(json.dumps(request).encode() + b"\n")
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)


def call(sock_path, request, tries=3):
    """One request. The agent drops a connection whose request is not whole
    within VS_CTL_TIMEOUT_MS (2 s) of the connect, unserved; with 512 test VMs
    the emulated test VM can stall this client that long between its connect
    and its send (one CI run). Such a drop, a reset or that error reply, is
    retried, and said on stderr; any other reply is returned."""
    request["version"] = PROTOCOL_VERSION
    for attempt in range(1, tries + 1):
        try:
            reply = call_once(sock_path, request)
            why = reply.get("error", "")
            if reply.get("ok") or "no complete request" not in why:
                return reply
        except (ConnectionResetError, BrokenPipeError) as e:
            why = str(e)
        if attempt == tries:
            sys.exit(f"fleet: {request['cmd']} of pid {request.get('pid')}: dropped {tries} times: {why}")
        print(f"fleet: {request['cmd']} of pid {request.get('pid')} dropped by the agent ({why}): "
              f"try {attempt + 1} of {tries}", file=sys.stderr)


def each_request(sock_path, requests, what):
    for req in requests:
        reply = call(sock_path, req)
        if not reply.get("ok"):
            sys.exit(f"fleet: {what} of pid {req['pid']} refused: {reply.get('error')}")


def enroll(sock_path, pairs):
    reqs = []
    for pair in pairs:
        name, pid = pair.split("=")
        reqs.append({"cmd": "enroll", "pid": int(pid), "name": name})
    each_request(sock_path, reqs, "enrolment")


def release(sock_path, pids):
    each_request(sock_path, [{"cmd": "release", "pid": int(p)} for p in pids], "release")


PROGRESS = re.compile(r"^progress vm=(\S+) vcpu=0 .*units=(\d+)", re.M)


def units_of(logs):
    out = {}
    for log in logs:
        with open(log) as f:
            found = PROGRESS.findall(f.read())
        if found:
            out[found[-1][0]] = int(found[-1][1])
    return out


def stalled(before_file, logs):
    before = {}
    with open(before_file) as f:
        for line in f:
            name, units = line.split()
            before[name] = int(units)
    now = units_of(logs)
    for name, units in sorted(before.items()):
        if now.get(name, -1) <= units:
            print(f"{name} {units} {now.get(name, 'none')}")


def policies(tids):
    counts = {}
    for tid in tids:
        try:
            with open(f"/proc/{tid}/stat") as f:
                policy = f.read().rsplit(")", 1)[1].split()[38]
        except OSError:
            policy = "gone"
        counts[policy] = counts.get(policy, 0) + 1
    for policy, n in sorted(counts.items()):
        print(policy, n)


def progstats():
    progs = json.loads(subprocess.run(["bpftool", "prog", "show", "--json"], check=True,
                                      capture_output=True, text=True).stdout)
    for p in progs:
        if p.get("type") == "struct_ops" and p.get("name") in PROGS:
            print(p["name"], p.get("run_cnt", 0), p.get("run_time_ns", 0))


def read_table(path):
    with open(path) as f:
        return {w[0]: [float(x) for x in w[1:]] for w in (line.split() for line in f) if w}


def cost(before_file, after_file):
    before, after = read_table(before_file), read_table(after_file)
    for name in PROGS:
        if name not in after:
            continue
        cnt = after[name][0] - before.get(name, [0, 0])[0]
        ns = after[name][1] - before.get(name, [0, 0])[1]
        print(name, int(cnt), f"{ns / cnt:.0f}" if cnt else "-")


def ratio(label_a, file_a, label_b, file_b):
    a, b = read_table_cost(file_a), read_table_cost(file_b)
    print(f"| program | calls ({label_a}) | ns/call ({label_a}) | calls ({label_b}) "
          f"| ns/call ({label_b}) | ratio {label_b}/{label_a} |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in PROGS:
        if name not in a and name not in b:
            continue
        ca, na = a.get(name, (0, None))
        cb, nb = b.get(name, (0, None))
        r = f"{nb / na:.2f}" if na and nb else "-"
        print(f"| {name} | {ca} | {fmt(na)} | {cb} | {fmt(nb)} | {r} |")
    # fleet_bpf_cost's line: dispatch's VM picks and the VMs each visited.
    if "pick_visits" in a and "pick_visits" in b:
        (ca, va), (cb, vb) = a["pick_visits"], b["pick_visits"]
        r = f"{vb / va:.2f}" if va else "-"
        print(f"| VMs visited per pick (picks, visits/pick) | {ca} | {va:.2f} | {cb} "
              f"| {vb:.2f} | {r} |")
    if "pick_scans" in a and "pick_scans" in b:
        (_, sa), (_, sb) = a["pick_scans"], b["pick_scans"]
        print(f"| picks that scanned the queued VMs (share) | | {sa:.3f} | | {sb:.3f} | |")
    if "pick_mends" in a and "pick_mends" in b:
        (_, ma), (_, mb) = a["pick_mends"], b["pick_mends"]
        print(f"| heap entries mended per pick | | {ma:.2f} | | {mb:.2f} | |")
    if "vcpus_waiting" in a and "vcpus_waiting" in b:
        (_, wa), (_, wb) = a["vcpus_waiting"], b["vcpus_waiting"]
        r = f"{wb / wa:.2f}" if wa else "-"
        print(f"| vCPUs waiting, mean (status wait_ns over the window) | | {wa:.2f} | "
              f"| {wb:.2f} | {r} |")


def fmt(ns):
    return "-" if ns is None else f"{ns:.0f}"


def read_table_cost(path):
    out = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if w:
                out[w[0]] = (int(w[1]), None if w[2] == "-" else float(w[2]))
    return out


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "enroll":
        enroll(args[0], args[1:])
    elif cmd == "release":
        release(args[0], args[1:])
    elif cmd == "units":
        for name, units in sorted(units_of(args).items()):
            print(name, units)
    elif cmd == "stalled":
        stalled(args[0], args[1:])
    elif cmd == "policies":
        policies(args)
    elif cmd == "progstats":
        progstats()
    elif cmd == "cost":
        cost(args[0], args[1])
    elif cmd == "ratio":
        ratio(*args)
    else:
        sys.exit(f"fleet.py: unknown command '{cmd}'\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv)
