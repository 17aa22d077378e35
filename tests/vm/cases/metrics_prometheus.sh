#!/bin/bash
# case-seconds: 160
# --metrics-listen, scraped by a real Prometheus server (the distribution's
# prometheus, on loopback, scraping every second, storage in the case's temp
# dir): vmm_sched_vm_run_seconds_total grows for a busy VM and stays put for
# a halted one (enrolled but never resumed). VM names are restricted to
# A-Z a-z 0-9 . _ - at the control socket, so label escaping (still done, as
# defence in depth) is covered by test_prom_text, not here. /metrics read
# directly has HELP and TYPE lines and the exposition content type. Idle
# connections beyond the server's limit neither stall the agent (the control
# socket answers) nor add threads, and scraping works again after their timeout.
. "$(dirname "$0")/../lib.sh"
PROM_PID=
trap '[ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null && wait "$PROM_PID"; cleanup' EXIT

PORT=19101
PROM_PORT=19090
HALTED='halted.vm-1'
command -v prometheus >/dev/null || fail "prometheus is not installed on the host (make deps)"

start_schedd --cpus 0-3 --metrics-listen "127.0.0.1:$PORT"
start_paused_vm busy 2 busy
start_paused_vm halted 1 busy
enroll_vm busy
out=$(ctl enroll "${VM_PID[halted]}" --name "$HALTED" 2>&1) || fail "enroll of the halted VM failed: $out"

# get PATH: the HTTP status, the content type and the body of a GET on the agent.
get() {
	python3 - "http://127.0.0.1:$PORT$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=20)
    print(r.status, r.headers.get("Content-Type"))
    sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.headers.get("Content-Type"))
PY
}
text=$(get /metrics) || fail "GET /metrics failed"
echo "$text" | head -n1 | grep -q '^200 text/plain; version=0.0.4' ||
	fail "GET /metrics: $(echo "$text" | head -n1) (want 200 text/plain; version=0.0.4)"
for m in vmm_sched_vm_run_seconds_total vmm_sched_vm_wait_seconds_total \
	vmm_sched_vm_forced_idle_seconds_total vmm_sched_cpu_seconds_total \
	vmm_sched_cpu_owner_changes_total vmm_sched_cpu_host_intrusions_total \
	vmm_sched_agent_messages_total vmm_sched_agent_messages_dropped_total \
	vmm_sched_agent_resyncs_total vmm_sched_transactions_total \
	vmm_sched_share_plan_seconds_total vmm_sched_build_info; do
	echo "$text" | grep -q "^# HELP $m " || fail "/metrics has no HELP line for $m"
	echo "$text" | grep -q "^# TYPE $m \(counter\|gauge\)$" || fail "/metrics has no TYPE line for $m"
done
echo "$text" | grep -qF 'vmm_sched_vm_run_seconds_total{vm="halted.vm-1",pid="'"${VM_PID[halted]}"'"}' ||
	fail "/metrics does not list the halted VM with its name and pid: $(echo "$text" | grep run_seconds)"
[ "$(get /other | head -n1 | cut -d' ' -f1)" = 404 ] || fail "GET /other is not 404"
lint=$(echo "$text" | tail -n +2 | promtool check metrics 2>&1) || fail "promtool check metrics: $lint"
[ -z "$lint" ] || fail "promtool check metrics warns: $lint"
note "/metrics: $(echo "$text" | grep -c '^# TYPE') families, $(echo "$text" | grep -vc '^#') samples"

mkdir -p "$TMP/prom"
cat >"$TMP/prom/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: vmm-sched
    static_configs:
      - targets: ['127.0.0.1:$PORT']
YML
prometheus --config.file="$TMP/prom/prometheus.yml" --storage.tsdb.path="$TMP/prom/data" \
	--web.listen-address="127.0.0.1:$PROM_PORT" >"$TMP/prom/log" 2>&1 &
PROM_PID=$!

# query PROMQL: prints "VM-NAME TIME VALUE" per series of an instant query (of
# a range X[10s]: its latest sample, TIME then when Prometheus scraped it).
query() {
	python3 - "http://127.0.0.1:$PROM_PORT/api/v1/query" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = sys.argv[1] + "?" + urllib.parse.urlencode({"query": sys.argv[2]})
r = json.load(urllib.request.urlopen(url, timeout=20))
assert r["status"] == "success", r
for s in r["data"]["result"]:
    t, v = s["values"][-1] if "values" in s else s["value"]  # a range: its latest
    print(s["metric"].get("vm", "-"), t, v)
PY
}
# sample_of PROMQL VM: "TIME VALUE" of VM's series ("-": the series without a vm label).
sample_of() {
	query "$1" 2>/dev/null | VM=$2 awk '{ s = $(NF - 1) " " $NF; sub(/ [^ ]* [^ ]*$/, ""); if ($0 == ENVIRON["VM"]) print s }'
}
value_of() { sample_of "$@" | cut -d' ' -f2; }
scraped() { [ "$(value_of 'up{job="vmm-sched"}' -)" = 1 ] && [ -n "$(value_of vmm_sched_vm_run_seconds_total busy)" ]; }
wait_for 180 scraped || fail "Prometheus did not scrape the agent: up=$(value_of 'up{job="vmm-sched"}' -) $(tail -n 5 "$TMP/prom/log")"
[ -n "$(value_of vmm_sched_vm_run_seconds_total "$HALTED")" ] ||
	fail "Prometheus has no series for the halted VM: $(query vmm_sched_vm_run_seconds_total)"
busy0=$(sample_of 'vmm_sched_vm_run_seconds_total[10s]' busy)
halted0=$(value_of vmm_sched_vm_run_seconds_total "$HALTED")
nap 8
busy1=$(sample_of 'vmm_sched_vm_run_seconds_total[10s]' busy)
halted1=$(value_of vmm_sched_vm_run_seconds_total "$HALTED")
# The busy VM's run seconds per second between the two scrapes (2 vCPUs, 2 cores).
rate=$(python3 -c "
t0, v0 = map(float, '$busy0'.split()); t1, v1 = map(float, '$busy1'.split())
print('%.2f %.0f' % ((v1 - v0) / (t1 - t0), t1 - t0) if t1 > t0 else 'none 0')")
note "vmm_sched_vm_run_seconds_total via Prometheus: busy ${busy0#* } -> ${busy1#* } (${rate#* } s apart: ${rate% *} CPUs), halted $halted0 -> $halted1"
[ "${rate% *}" != none ] || fail "Prometheus scraped no new value in 8 s (busy: $busy0 -> $busy1)"
python3 -c "import sys; sys.exit(0 if float('${rate% *}') >= 0.5 else 1)" ||
	fail "the busy VM ran ${rate% *} CPUs between two scrapes, want >= 0.5 (2 busy vCPUs)"
[ -n "$halted1" ] && [ "$halted0" = "$halted1" ] || fail "the halted VM's run seconds changed: $halted0 -> $halted1"
[ "$(value_of 'up{job="vmm-sched"}' -)" = 1 ] || fail "the scrape failed: up is not 1"

# Idle connections past the limit (16): no thread each, and the agent's loop goes on.
threads0=$(ls "/proc/$SCHEDD_PID/task" | wc -l)
python3 - "$PORT" "$TMP/stall.done" <<'PY' &
import os, socket, sys, time
conns = []
for _ in range(24):
    try:
        conns.append(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5))
    except OSError:
        pass
open(sys.argv[2], "w").close()
time.sleep(30)
PY
STALL_PID=$!
wait_for 60 test -e "$TMP/stall.done" || fail "could not open the idle connections"
threads1=$(ls "/proc/$SCHEDD_PID/task" | wc -l)
t0=$EPOCHREALTIME
ctl status >/dev/null || fail "vmm-schedctl status failed while idle connections held the metrics server"
note "with 24 idle connections: status answered in $(python3 -c "print('%.2f' % ($EPOCHREALTIME - $t0))") s, agent threads $threads0 -> $threads1"
[ "$threads1" = "$threads0" ] || fail "the agent has $threads1 threads with idle scrapers, $threads0 before"
metrics_ok() { get /metrics 2>/dev/null | head -n1 | grep -q '^200 '; }
wait_for 60 metrics_ok || fail "/metrics did not answer again after the idle connections timed out"
kill "$STALL_PID" 2>/dev/null
wait "$STALL_PID" 2>/dev/null

kill "$PROM_PID"
wait "$PROM_PID"
PROM_PID=
stop_vm busy
kill -HUP "${VM_PID[halted]}"
stop_vm halted
stop_schedd
