/* The daemon's state as the JSON that `vmm-schedctl status` shows. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "bpf/rules/cpu_time.h"
#include "control_server.h"
#include "ctl_reply.h"
#include "daemon.h"
#include "discovery_events.h"
#include "hint_regions.h"
#include "libvirt_enrol.h"
#include "numa_home.h"
#include "sched_maps.h"
#include "planner_loop.h"
#include "status_json.h"
#include "vmm_sched_ctl.h"

static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static void add_int(struct json_object *o, const char *key, int v)
{
	json_object_object_add(o, key, json_object_new_int(v));
}

static void add_str(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

static const char *sched_ext_state(char *buf, size_t len)
{
	FILE *f = fopen("/sys/kernel/sched_ext/state", "r");

	snprintf(buf, len, "unknown");
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
	return buf;
}

/* Core takes: how long each waited for the old VM to leave, in decade buckets. */
static struct json_object *take_wait_json(const struct vs_sched_counters *c)
{
	static const char *const bucket[VS_TAKE_WAIT_BUCKETS] = {"lt_10us", "lt_100us", "lt_1ms",
								 "lt_10ms", "ge_10ms"};
	struct json_object *o = json_object_new_object(), *h = json_object_new_object();

	add_u64(o, "count", c->take_waits);
	add_u64(o, "sum_us", c->take_wait_ns / 1000);
	add_u64(o, "mean_us", c->take_waits ? c->take_wait_ns / c->take_waits / 1000 : 0);
	add_u64(o, "max_us", c->take_wait_max_ns / 1000);
	for (int i = 0; i < VS_TAKE_WAIT_BUCKETS; i++)
		add_u64(h, bucket[i], c->take_wait_hist[i]);
	json_object_object_add(o, "hist", h);
	return o;
}

static struct json_object *scheduler_json(struct vs_daemon *d)
{
	struct json_object *o = json_object_new_object(), *txn;
	struct vs_sched_counters c;
	char state[32];

	add_str(o, "name", "vmm_sched");
	add_str(o, "sched_ext_state", sched_ext_state(state, sizeof(state)));
	add_str(o, "pairing", d->opt.relaxed ? "relaxed" : "strict");
	add_str(o, "core_cookie", core_cookie_mode_name(d->opt.core_cookie));
	json_object_object_add(o, "kick_supported",
			       json_object_new_boolean(vs_maps_kick_supported(d)));
	add_str(o, "kick", vs_maps_kick_mode(d));
	add_int(o, "abi_version", VS_ABI_VERSION);
	add_u64(o, "slice_us", d->opt.slice_us);
	add_u64(o, "target_latency_ms", d->opt.target_latency_ms);
	add_u64(o, "core_slice_us", vs_maps_core_slice_ns(d) / 1000);
	add_u64(o, "pair_window_us", vs_maps_pair_window_ns(d) / 1000);
	add_u64(o, "demanding_vms", d->share.plan.nr_demanding);
	add_u64(o, "share_plans", d->share.plans);
	add_u64(o, "share_plan_ns", d->share.plan_ns);
	json_object_object_add(o, "reservations_overcommitted",
			       json_object_new_boolean(d->share.plan.reservations_overcommitted));
	add_u64(o, "messages", d->msgs.received);
	add_u64(o, "stale_messages", d->msgs.stale);
	add_u64(o, "invalid_messages", d->msgs.invalid);
	add_u64(o, "dropped_messages", vs_maps_msg_drops(d));
	add_u64(o, "late_messages", d->msgs.late);
	add_u64(o, "resyncs", d->msgs.resyncs);
	json_object_object_add(o, "adopted", json_object_new_boolean(d->adopted));
	add_str(o, "pin_dir", d->opt.pin_dir);
	add_u64(o, "stray_enqueues", vs_maps_stray_enqueues(d));
	vs_maps_read_counters(d, &c);
	add_u64(o, "self_check_overlaps", c.self_check_overlaps);
	add_u64(o, "unclaimed_runs", c.unclaimed_runs);
	add_u64(o, "switch_overlaps", c.switch_overlaps);
	add_u64(o, "unrecorded_switches", c.unrecorded_switches);
	add_u64(o, "misplaced_runs", c.misplaced_runs);
	add_u64(o, "late_adoptions", c.late_adoptions);
	add_u64(o, "txn_group_partial", c.txn_group_partial);
	add_u64(o, "txn_takes", c.txn_takes);
	add_u64(o, "preempt_holds_refused", c.preempt_holds_refused);
	add_u64(o, "pick_calls", c.pick_calls);
	add_u64(o, "pick_visits", c.pick_visits);
	add_u64(o, "pick_scans", c.pick_scans);
	add_u64(o, "pick_mends", c.pick_mends);
	add_u64(o, "vm_bit_repairs", c.vm_bit_repairs);
	add_u64(o, "vm_heap_repairs", c.vm_heap_repairs);
	json_object_object_add(o, "take_wait", take_wait_json(&c));
	add_u64(o, "starved_grants", c.starved_grants);
	add_u64(o, "pair_grants", c.pair_grants);
	add_u64(o, "sibling_waits", c.sibling_waits);
	add_u64(o, "kicks", c.kicks);
	add_u64(o, "host_starts", c.host_starts);
	add_u64(o, "drains", c.drains);
	add_u64(o, "drain_us", c.drain_ns / 1000);
	add_u64(o, "drain_max_us", c.drain_max_ns / 1000);
	txn = json_object_new_object();
	for (int i = VS_TXN_COMPLETE; i < VS_TXN_NR_OUTCOMES; i++)
		add_u64(txn, txn_outcome_name(i), c.txn_outcomes[i]);
	json_object_object_add(o, "txn_outcomes", txn);
	return o;
}

/* CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns() */
static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Per CPU: vcpu_ns + host_ns + idle_ns + forced_idle_ns + host_idle_ns is the
 * CPU's time up to sampled_ns (the open stretch is counted up to then).
 */
static struct json_object *cpus_json(struct vs_daemon *d)
{
	struct json_object *arr = json_object_new_array();
	struct vs_cpuset all;
	int cpu;

	enclave_set_all_cpus(&d->enclaves, &all);
	cpuset_for_each(cpu, &all)
	{
		struct json_object *o = json_object_new_object();
		struct vs_cpu_stats cs = {0};
		uint64_t now;

		vs_maps_read_cpu_stats(d, cpu, &cs);
		now = monotonic_ns();
		vs_stretch_end(&cs, now);
		add_int(o, "cpu", cpu);
		add_int(o, "core", d->topo.core_of[cpu]);
		add_int(o, "node", d->topo.node_of[cpu]);
		add_str(o, "enclave", d->enclaves.e[enclave_set_of_cpu(&d->enclaves, cpu)].name);
		add_u64(o, "vcpu_runs", cs.vcpu_runs);
		add_u64(o, "vcpu_ns", cs.vcpu_ns);
		add_u64(o, "empty_dispatch", cs.empty_dispatch);
		add_u64(o, "stray_runs", cs.stray_runs);
		add_int(o, "running_tid", d->cpu_track[cpu].running_tid);
		add_u64(o, "forced_idle_ns", cs.forced_idle_ns);
		add_u64(o, "host_idle_ns", cs.host_idle_ns);
		add_u64(o, "host_ns", cs.host_ns);
		add_u64(o, "idle_ns", cs.idle_ns);
		add_u64(o, "sampled_ns", now);
		add_u64(o, "owner_changes", cs.owner_changes);
		add_u64(o, "host_evictions", cs.host_evictions);
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *cores_json(struct vs_daemon *d)
{
	struct json_object *arr = json_object_new_array();
	struct vs_cpuset all;
	int cpu;

	enclave_set_all_cpus(&d->enclaves, &all);
	cpuset_for_each(cpu, &all)
	{
		struct json_object *o, *cpus;
		struct vs_core_state core = {0};

		if (d->topo.core_of[cpu] != cpu)
			continue;
		vs_maps_read_core_state(d, cpu, &core);
		o = json_object_new_object();
		cpus = json_object_new_array();
		add_int(o, "core", cpu);
		for (int th = 0; th < VS_THREADS_PER_CORE; th++)
			if (core.cpu[th] >= 0)
				json_object_array_add(cpus, json_object_new_int(core.cpu[th]));
		json_object_object_add(o, "cpus", cpus);
		add_int(o, "owner_vm", core.owner);
		json_object_object_add(o, "draining", json_object_new_boolean(core.draining));
		add_u64(o, "sibling_wakeups", core.sibling_wakeups);
		{
			struct json_object *rv = json_object_new_array(),
					   *cl = json_object_new_array(),
					   *ho = json_object_new_array();

			for (int th = 0; th < VS_THREADS_PER_CORE; th++) {
				json_object_array_add(rv, json_object_new_int(core.running_vm[th]));
				json_object_array_add(cl,
						      json_object_new_int((int)core.claims[th]));
				json_object_array_add(ho, json_object_new_int((int)core.host[th]));
			}
			json_object_object_add(o, "running_vm", rv);
			json_object_object_add(o, "claims", cl);
			json_object_object_add(o, "host", ho);
		}
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *vcpu_json(struct vs_daemon *d, int slot)
{
	struct json_object *o = json_object_new_object();
	const struct vs_vcpu_rec *v = &d->reg.vcpus[slot];
	const struct vs_vcpu_track *t = &d->vcpu_track[slot];
	struct vs_vcpu_stats st = {0};

	vs_maps_read_vcpu_stats(d, slot, &st);
	add_int(o, "index", v->vcpu_index);
	add_int(o, "tid", v->tid);
	add_int(o, "slot", slot);
	add_str(o, "state", vcpu_state_name(t->state));
	add_int(o, "cpu", t->cpu);
	add_u64(o, "runs", st.runs);
	add_u64(o, "run_ns", st.run_ns);
	add_u64(o, "wait_ns", st.wait_ns);
	add_u64(o, "wakeups", st.wakeups);
	add_u64(o, "preempts", st.preempts);
	add_u64(o, "migrations", st.migrations);
	add_u64(o, "cs_extensions", st.cs_extensions);
	add_u64(o, "cs_extended_ns", st.cs_extended_ns);
	add_u64(o, "last_cpu", st.last_cpu);
	add_u64(o, "seqnum", st.seqnum);
	/* The agent's view: trails seqnum by the messages not yet read. */
	add_u64(o, "tracked_seqnum", t->seqnum);
	add_u64(o, "resyncs", t->resyncs);
	/* The guest's hints as mirrored into the scheduler (hint_regions.c). */
	add_str(o, "hint",
		(d->hint_flags[slot] & (VS_HINT_IDLE | VS_HINT_CS)) == (VS_HINT_IDLE | VS_HINT_CS)
		    ? "idle,cs"
		: d->hint_flags[slot] & VS_HINT_IDLE ? "idle"
		: d->hint_flags[slot] & VS_HINT_CS   ? "cs"
						     : "");
	return o;
}

/* The VM's home node and the enclave cores on it; null for both if unknown. */
static void add_numa_home(struct json_object *o, struct vs_daemon *d, const struct vs_vm_rec *vm)
{
	struct json_object *cores;
	struct vs_cpuset local;
	int core;

	if (vm->numa_node == VS_NUMA_NODE_UNKNOWN) {
		json_object_object_add(o, "numa_node", NULL);
		json_object_object_add(o, "numa_local_cores", NULL);
		return;
	}
	add_int(o, "numa_node", vm->numa_node);
	cores = json_object_new_array();
	numa_local_cores(&d->topo, &d->enclaves.e[vm->enclave].enc.cpus, vm->numa_node, &local);
	cpuset_for_each(core, &local)
	{
		json_object_array_add(cores, json_object_new_int(core));
	}
	json_object_object_add(o, "numa_local_cores", cores);
}

static struct json_object *vms_json(struct vs_daemon *d)
{
	struct json_object *arr = json_object_new_array();
	int vm_id, slot;

	registry_for_each_vm(vm_id, &d->reg)
	{
		const struct vs_vm_rec *vm = &d->reg.vms[vm_id];
		struct json_object *o = json_object_new_object(), *vcpus = json_object_new_array();

		add_int(o, "id", vm_id);
		add_str(o, "name", vm->name);
		add_int(o, "pid", vm->pid);
		add_str(o, "enclave", d->enclaves.e[vm->enclave].name);
		struct vs_vm_state vs = {0};

		vs_maps_read_vm_state(d, vm_id, &vs);
		add_u64(o, "weight", vm->weight);
		add_u64(o, "reserve_cores", vm->reserve_cores);
		add_u64(o, "cap_cores", vm->cap_cores);
		add_u64(o, "share_mcores", d->share.plan.share_mcores[vm_id]);
		add_u64(o, "bpf_weight", d->share.vm_ctx[vm_id].weight);
		add_u64(o, "remote_runs", vs.remote_runs);
		add_u64(o, "run_ns", vs.run_ns);
		add_u64(o, "vtime", vs.vtime);
		add_u64(o, "forced_idle_ns", vs.forced_idle_ns);
		add_u64(o, "core_grants", vs.core_grants);
		add_u64(o, "cs_extensions", vs.cs_extensions);
		add_u64(o, "cs_extended_ns", vs.cs_extended_ns);
		add_u64(o, "idle_handoffs", vs.idle_handoffs);
		add_u64(o, "directed_yields", vs.directed_yields);
		add_u64(o, "directed_runs", vs.directed_runs);
		add_u64(o, "yields_ignored", vs.yields_ignored);
		add_u64(o, "idle_deferrals", vs.idle_deferrals);
		struct json_object *hints = hints_status_json(d, vm_id);

		if (hints)
			json_object_object_add(o, "hints", hints);
		add_numa_home(o, d, vm);
		registry_for_each_vcpu(slot, &d->reg)
		{
			if (d->reg.vcpus[slot].vm_id == vm_id)
				json_object_array_add(vcpus, vcpu_json(d, slot));
		}
		json_object_object_add(o, "vcpus", vcpus);
		json_object_array_add(arr, o);
	}
	return arr;
}

struct json_object *enclaves_json(struct vs_daemon *d)
{
	struct json_object *arr = json_object_new_array();
	char cpus[512];
	int id, vm_id;

	for (id = 0; id < VS_MAX_ENCLAVES; id++) {
		const struct vs_enclave_def *e = &d->enclaves.e[id];
		struct json_object *o, *vms;
		unsigned int reserved = 0;

		if (!e->used)
			continue;
		o = json_object_new_object();
		vms = json_object_new_array();
		cpuset_format(&e->enc.cpus, cpus, sizeof(cpus));
		add_str(o, "name", e->name);
		add_str(o, "cpus", cpus);
		add_int(o, "cores", e->enc.nr_cores);
		add_str(o, "pairing", e->relaxed ? "relaxed" : "strict");
		add_u64(o, "slice_us", e->slice_us);
		registry_for_each_vm(vm_id, &d->reg)
		{
			if (d->reg.vms[vm_id].enclave != id)
				continue;
			json_object_array_add(vms, json_object_new_string(d->reg.vms[vm_id].name));
			reserved += d->reg.vms[vm_id].reserve_cores;
		}
		add_u64(o, "reserved_cores", reserved);
		json_object_object_add(o, "vms", vms);
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *planner_json(struct vs_daemon *d)
{
	const struct vs_planner_stats *st = planner_loop_stats(d);
	struct json_object *o = json_object_new_object(), *out;

	add_str(o, "placement", d->opt.placement_agent ? "agent" : "bpf");
	add_u64(o, "epoch_ms", d->opt.epoch_ms);
	if (!st)
		return o;
	json_object_object_add(o, "take_core", json_object_new_boolean(st->take_core));
	add_u64(o, "epoch_now_ms", st->backoff.epoch_ms);
	add_u64(o, "backoffs", st->backoff.lengthened);
	add_u64(o, "backoff_resets", st->backoff.resets);
	add_u64(o, "epochs", st->epochs);
	add_u64(o, "replans", st->replans);
	add_u64(o, "idle_epochs", st->idle_epochs);
	add_u64(o, "view_errors", st->view_errors);
	add_u64(o, "commit_errors", st->commit_errors);
	add_u64(o, "txns", st->txns);
	add_u64(o, "latched", st->latched);
	add_u64(o, "take_core_txns", st->take_core_txns);
	add_u64(o, "cores_refused", st->cores_refused);
	add_u64(o, "bpf_threads", st->bpf_threads);
	add_u64(o, "plan_us", st->plan_ns / 1000);
	add_u64(o, "plan_max_us", st->plan_max_ns / 1000);
	add_u64(o, "epoch_us", st->epoch_ns / 1000);
	add_u64(o, "epoch_max_us", st->epoch_max_ns / 1000);
	out = json_object_new_object();
	for (int i = VS_TXN_COMPLETE; i < VS_TXN_NR_OUTCOMES; i++)
		add_u64(out, txn_outcome_name(i), st->outcomes[i]);
	json_object_object_add(o, "outcomes", out);
	return o;
}

struct json_object *status_to_json(struct vs_daemon *d)
{
	struct json_object *o = ctl_reply_ok(), *enc = json_object_new_object();
	struct vs_cpuset all;
	char cpus[512];

	json_object_object_add(o, "scheduler", scheduler_json(d));
	/* "enclave": every enclave's CPUs together; "enclaves": each one. */
	enclave_set_all_cpus(&d->enclaves, &all);
	cpuset_format(&all, cpus, sizeof(cpus));
	add_str(enc, "cpus", cpus);
	add_int(enc, "cores",
		cpuset_count(&all) /
		    (cpuset_count(&all) ? topology_threads_per_core(&d->topo, cpuset_next(&all, 0))
					: 1));
	add_int(enc, "threads_per_core",
		cpuset_count(&all) ? topology_threads_per_core(&d->topo, cpuset_next(&all, 0)) : 1);
	json_object_object_add(o, "enclave", enc);
	json_object_object_add(o, "enclaves", enclaves_json(d));
	json_object_object_add(o, "cpus", cpus_json(d));
	json_object_object_add(o, "cores", cores_json(d));
	json_object_object_add(o, "vms", vms_json(d));
	add_u64(o, "hint_disables", hints_disables_total(d));
	json_object_object_add(o, "control", control_status_json(d));
	json_object_object_add(o, "libvirt", libvirt_status_json(d));
	json_object_object_add(o, "planner", planner_json(d));
	json_object_object_add(o, "discovery", discovery_status_json(d));
	return o;
}
