#include "metrics_render.h"

#include <json-c/json.h>

#include "json_fields.h"

/* A string, or a number as text; valid while @o lives. */
static const char *get_str(struct json_object *o, const char *key)
{
	const char *s = json_object_get_string(jf_obj(o, key));

	return s ? s : "";
}

/* A family of scheduler-wide counters: status key -> metric. */
struct scalar {
	const char *metric, *key, *help;
};

static const struct scalar agent_counters[] = {
    {"vmm_sched_agent_messages_total", "messages", "Messages the agent read from the scheduler."},
    {"vmm_sched_agent_messages_dropped_total", "dropped_messages",
     "Messages the scheduler dropped because the ring buffer was full."},
    {"vmm_sched_agent_messages_stale_total", "stale_messages",
     "Messages older than the agent's view of their vCPU."},
    {"vmm_sched_agent_messages_invalid_total", "invalid_messages",
     "Messages the agent could not use."},
    {"vmm_sched_agent_messages_late_total", "late_messages",
     "Messages applied more than 100 ms after they were sent."},
    {"vmm_sched_agent_resyncs_total", "resyncs",
     "Times the agent rebuilt its view from the maps after dropped messages."},
    {"vmm_sched_share_plans_total", "share_plans", "Share plans the agent computed."},
    {"vmm_sched_self_check_overlaps_total", "self_check_overlaps",
     "Times the scheduler saw vCPUs of two VMs on one core (must stay 0)."},
    {"vmm_sched_switch_overlaps_total", "switch_overlaps",
     "Context switches that put vCPUs of two VMs on one core (must stay 0)."},
    {"vmm_sched_stray_enqueues_total", "stray_enqueues",
     "SCHED_EXT tasks that are no enrolled vCPU."},
    {"vmm_sched_starved_grants_total", "starved_grants",
     "Cores given to a VM none of whose vCPUs ran for 5 s."},
};

/* Core takes' waits (scheduler.take_wait) as a histogram: cumulative buckets. */
static void take_wait_metrics(struct json_object *sched, struct prom_buf *b)
{
	static const char *const key[] = {"lt_10us", "lt_100us", "lt_1ms", "lt_10ms"};
	static const char *const le[] = {"1e-05", "0.0001", "0.001", "0.01"};
	struct json_object *tw = jf_obj(sched, "take_wait"), *h = jf_obj(tw, "hist");
	struct prom_label l = {"le", "+Inf"};
	uint64_t cum = 0;

	if (!json_object_is_type(h, json_type_object))
		return;
	prom_family(b, "vmm_sched_core_take_wait_seconds", "histogram",
		    "Core takes (VS_TXN_F_TAKE_CORE): from the commit to the vCPU running there.");
	for (size_t i = 0; i < sizeof(key) / sizeof(key[0]); i++) {
		const struct prom_label bl = {"le", le[i]};

		cum += jf_u64(h, key[i]);
		prom_sample_u64(b, "vmm_sched_core_take_wait_seconds_bucket", &bl, 1, cum);
	}
	prom_sample_u64(b, "vmm_sched_core_take_wait_seconds_bucket", &l, 1, jf_u64(tw, "count"));
	prom_sample_ns_as_seconds(b, "vmm_sched_core_take_wait_seconds_sum", NULL, 0,
				  jf_u64(tw, "sum_us") * 1000);
	prom_sample_u64(b, "vmm_sched_core_take_wait_seconds_count", NULL, 0, jf_u64(tw, "count"));
}

static void scheduler_metrics(struct json_object *status, struct prom_buf *b)
{
	struct json_object *sched = jf_obj(status, "scheduler"),
			   *txn = jf_obj(sched, "txn_outcomes");
	const struct prom_label info[] = {
	    {"abi_version", get_str(sched, "abi_version")},
	    {"control_version", get_str(status, "version")},
	    {"pairing", get_str(sched, "pairing")},
	    {"core_cookie", get_str(sched, "core_cookie")},
	};

	prom_family(
	    b, "vmm_sched_build_info", "gauge",
	    "The scheduler's ABI, the control protocol version and the settings; always 1.");
	prom_sample_u64(b, "vmm_sched_build_info", info, 4, 1);
	for (size_t i = 0; i < sizeof(agent_counters) / sizeof(agent_counters[0]); i++) {
		const struct scalar *s = &agent_counters[i];

		prom_family(b, s->metric, "counter", s->help);
		prom_sample_u64(b, s->metric, NULL, 0, jf_u64(sched, s->key));
	}
	prom_family(b, "vmm_sched_share_plan_seconds_total", "counter",
		    "Time the agent spent computing share plans.");
	prom_sample_ns_as_seconds(b, "vmm_sched_share_plan_seconds_total", NULL, 0,
				  jf_u64(sched, "share_plan_ns"));
	prom_family(b, "vmm_sched_demanding_vms", "gauge",
		    "VMs that wanted a CPU at the last plan.");
	prom_sample_u64(b, "vmm_sched_demanding_vms", NULL, 0, jf_u64(sched, "demanding_vms"));
	prom_family(b, "vmm_sched_core_slice_seconds", "gauge",
		    "How long a core stays with one VM while others want it.");
	prom_sample_ns_as_seconds(b, "vmm_sched_core_slice_seconds", NULL, 0,
				  jf_u64(sched, "core_slice_us") * 1000);
	prom_family(b, "vmm_sched_transactions_total", "counter",
		    "Agent placement transactions by outcome.");
	if (json_object_is_type(txn, json_type_object)) {
		json_object_object_foreach(txn, outcome, count)
		{
			const struct prom_label l = {"outcome", outcome};

			prom_sample_u64(b, "vmm_sched_transactions_total", &l, 1,
					json_object_get_uint64(count));
		}
	}
	prom_family(b, "vmm_sched_enclave_cores", "gauge", "Whole cores in the enclave.");
	prom_sample_u64(b, "vmm_sched_enclave_cores", NULL, 0,
			jf_u64(jf_obj(status, "enclave"), "cores"));
	take_wait_metrics(sched, b);
}

/* Per VM: the labels vm and pid, then the value. */
enum vm_value {
	VM_RUN_NS,
	VM_WAIT_NS,
	VM_FORCED_IDLE_NS,
	VM_CORE_GRANTS,
	VM_SHARE,
	VM_VCPUS,
	VM_DIRECTED_YIELDS,
	VM_DIRECTED_RUNS,
	VM_YIELDS_IGNORED,
	VM_IDLE_DEFERRALS,
};
static const struct {
	const char *metric, *type, *help;
} vm_families[] = {
    [VM_RUN_NS] = {"vmm_sched_vm_run_seconds_total", "counter",
		   "Time the VM's vCPUs ran, summed over its vCPUs."},
    [VM_WAIT_NS] = {"vmm_sched_vm_wait_seconds_total", "counter",
		    "Time the VM's vCPUs were runnable but not running (steal)."},
    [VM_FORCED_IDLE_NS] = {"vmm_sched_vm_forced_idle_seconds_total", "counter",
			   "Sibling CPU time left idle while the VM owned the core."},
    [VM_CORE_GRANTS] = {"vmm_sched_vm_core_grants_total", "counter",
			"Times a core was handed to the VM."},
    [VM_SHARE] = {"vmm_sched_vm_planned_share_cores", "gauge",
		  "The VM's share of the enclave in the last plan, in cores."},
    [VM_VCPUS] = {"vmm_sched_vm_vcpus", "gauge", "Enrolled vCPU threads of the VM."},
    [VM_DIRECTED_YIELDS] = {"vmm_sched_vm_directed_yields_total", "counter",
			    "yield_to() calls of the VM's vCPUs naming a waiting vCPU of the VM."},
    [VM_DIRECTED_RUNS] = {"vmm_sched_vm_directed_runs_total", "counter",
			  "Of those, the named vCPU ran next on the yielding CPU."},
    [VM_YIELDS_IGNORED] = {"vmm_sched_vm_yields_ignored_total", "counter",
			   "yield_to() calls naming another VM's vCPU or one not waiting."},
    [VM_IDLE_DEFERRALS] = {"vmm_sched_vm_idle_deferrals_total", "counter",
			   "Times a vCPU with work ran before a guest-idle vCPU queued ahead."},
};

static uint64_t vm_wait_ns(struct json_object *vm)
{
	return jf_sum_u64(jf_obj(vm, "vcpus"), "wait_ns");
}

static void vm_metrics(struct json_object *status, struct prom_buf *b)
{
	struct json_object *vms = jf_obj(status, "vms");

	for (int f = 0; f < (int)(sizeof(vm_families) / sizeof(vm_families[0])); f++) {
		const char *metric = vm_families[f].metric;

		prom_family(b, metric, vm_families[f].type, vm_families[f].help);
		for (size_t i = 0; i < jf_len(vms); i++) {
			struct json_object *vm = jf_at(vms, i);
			const struct prom_label l[] = {
			    {"vm", get_str(vm, "name")},
			    {"pid", get_str(vm, "pid")},
			};

			switch ((enum vm_value)f) {
			case VM_RUN_NS:
				prom_sample_ns_as_seconds(b, metric, l, 2, jf_u64(vm, "run_ns"));
				break;
			case VM_WAIT_NS:
				prom_sample_ns_as_seconds(b, metric, l, 2, vm_wait_ns(vm));
				break;
			case VM_FORCED_IDLE_NS:
				prom_sample_ns_as_seconds(b, metric, l, 2,
							  jf_u64(vm, "forced_idle_ns"));
				break;
			case VM_CORE_GRANTS:
				prom_sample_u64(b, metric, l, 2, jf_u64(vm, "core_grants"));
				break;
			case VM_SHARE:
				prom_sample_milli(b, metric, l, 2, jf_u64(vm, "share_mcores"));
				break;
			case VM_VCPUS:
				prom_sample_u64(b, metric, l, 2, jf_len(jf_obj(vm, "vcpus")));
				break;
			case VM_DIRECTED_YIELDS:
				prom_sample_u64(b, metric, l, 2, jf_u64(vm, "directed_yields"));
				break;
			case VM_DIRECTED_RUNS:
				prom_sample_u64(b, metric, l, 2, jf_u64(vm, "directed_runs"));
				break;
			case VM_YIELDS_IGNORED:
				prom_sample_u64(b, metric, l, 2, jf_u64(vm, "yields_ignored"));
				break;
			case VM_IDLE_DEFERRALS:
				prom_sample_u64(b, metric, l, 2, jf_u64(vm, "idle_deferrals"));
				break;
			}
		}
	}
}

/* Where each enclave CPU's time went: the five add up to its wall time. */
static const char *const cpu_modes[][2] = {
    {"vcpu", "vcpu_ns"},	   {"host", "host_ns"},
    {"idle", "idle_ns"},	   {"forced_idle", "forced_idle_ns"},
    {"host_idle", "host_idle_ns"},
};

static const struct scalar cpu_counters[] = {
    {"vmm_sched_cpu_owner_changes_total", "owner_changes",
     "Times the CPU handed its core to another VM."},
    {"vmm_sched_cpu_host_intrusions_total", "host_evictions",
     "Times a host task took the sibling while a vCPU ran on this CPU."},
    {"vmm_sched_cpu_vcpu_runs_total", "vcpu_runs", "vCPU runs started on the CPU."},
    {"vmm_sched_cpu_stray_runs_total", "stray_runs",
     "Runs of SCHED_EXT tasks that are no enrolled vCPU."},
};

static void cpu_labels(struct json_object *cpu, struct prom_label *l)
{
	l[0] = (struct prom_label){"cpu", get_str(cpu, "cpu")};
	l[1] = (struct prom_label){"core", get_str(cpu, "core")};
}

static void cpu_metrics(struct json_object *status, struct prom_buf *b)
{
	struct json_object *cpus = jf_obj(status, "cpus");
	struct prom_label l[3];

	prom_family(b, "vmm_sched_cpu_seconds_total", "counter",
		    "Enclave CPU time by mode: vcpu, host (host tasks), idle, forced_idle "
		    "(idle while another VM waited), host_idle (idle beside a host task).");
	for (size_t i = 0; i < jf_len(cpus); i++) {
		struct json_object *cpu = jf_at(cpus, i);

		cpu_labels(cpu, l);
		for (size_t m = 0; m < sizeof(cpu_modes) / sizeof(cpu_modes[0]); m++) {
			l[2] = (struct prom_label){"mode", cpu_modes[m][0]};
			prom_sample_ns_as_seconds(b, "vmm_sched_cpu_seconds_total", l, 3,
						  jf_u64(cpu, cpu_modes[m][1]));
		}
	}
	for (size_t f = 0; f < sizeof(cpu_counters) / sizeof(cpu_counters[0]); f++) {
		prom_family(b, cpu_counters[f].metric, "counter", cpu_counters[f].help);
		for (size_t i = 0; i < jf_len(cpus); i++) {
			struct json_object *cpu = jf_at(cpus, i);

			cpu_labels(cpu, l);
			prom_sample_u64(b, cpu_counters[f].metric, l, 2,
					jf_u64(cpu, cpu_counters[f].key));
		}
	}
}

/* --placement agent only: the planner's epochs, time and transactions. */
static void planner_metrics(struct json_object *status, struct prom_buf *b)
{
	struct json_object *p = jf_obj(status, "planner"), *out = jf_obj(p, "outcomes");

	if (!json_object_is_type(out, json_type_object))
		return;
	prom_family(b, "vmm_sched_planner_epochs_total", "counter",
		    "Enclave epochs the agent's planner planned.");
	prom_sample_u64(b, "vmm_sched_planner_epochs_total", NULL, 0, jf_u64(p, "epochs"));
	prom_family(b, "vmm_sched_planner_plan_seconds_total", "counter",
		    "Time spent in the planner itself.");
	prom_sample_ns_as_seconds(b, "vmm_sched_planner_plan_seconds_total", NULL, 0,
				  jf_u64(p, "plan_us") * 1000);
	prom_family(
	    b, "vmm_sched_planner_epoch_seconds", "gauge",
	    "The planner's epoch now: the base, or longer while its commits change little.");
	prom_sample_ns_as_seconds(b, "vmm_sched_planner_epoch_seconds", NULL, 0,
				  jf_u64(p, "epoch_now_ms") * 1000000);
	prom_family(b, "vmm_sched_planner_backoffs_total", "counter",
		    "Epochs after which the planner lengthened the next one.");
	prom_sample_u64(b, "vmm_sched_planner_backoffs_total", NULL, 0, jf_u64(p, "backoffs"));
	prom_family(b, "vmm_sched_planner_bpf_threads_total", "counter",
		    "Enclave threads the plans left to the scheduler's own rules, per epoch.");
	prom_sample_u64(b, "vmm_sched_planner_bpf_threads_total", NULL, 0,
			jf_u64(p, "bpf_threads"));
	prom_family(b, "vmm_sched_planner_transactions_total", "counter",
		    "The planner's transactions by outcome.");
	json_object_object_foreach(out, outcome, count)
	{
		const struct prom_label l = {"outcome", outcome};

		prom_sample_u64(b, "vmm_sched_planner_transactions_total", &l, 1,
				json_object_get_uint64(count));
	}
}

/* How vCPU threads are found: process events or polling, and the rescans by cause. */
static void discovery_metrics(struct json_object *status, struct prom_buf *b)
{
	struct json_object *disc = jf_obj(status, "discovery"), *rescans = jf_obj(disc, "rescans");
	const struct prom_label mode = {"mode", get_str(disc, "mode")};

	if (!json_object_is_type(rescans, json_type_object))
		return;
	prom_family(b, "vmm_sched_discovery_info", "gauge",
		    "How vCPU threads are found: mode events (process events) or poll; always 1.");
	prom_sample_u64(b, "vmm_sched_discovery_info", &mode, 1, 1);
	prom_family(b, "vmm_sched_discovery_events_total", "counter",
		    "Process events (fork, exit, comm) the agent read.");
	prom_sample_u64(b, "vmm_sched_discovery_events_total", NULL, 0, jf_u64(disc, "events"));
	prom_family(b, "vmm_sched_discovery_overflows_total", "counter",
		    "Times process events were lost (each followed by a rescan of every VM).");
	prom_sample_u64(b, "vmm_sched_discovery_overflows_total", NULL, 0,
			jf_u64(disc, "overflows"));
	prom_family(b, "vmm_sched_discovery_rescans_total", "counter",
		    "VM rescans of /proc by cause: events, overflow, safety, poll, held, start.");
	json_object_object_foreach(rescans, cause, count)
	{
		const struct prom_label l = {"cause", cause};

		prom_sample_u64(b, "vmm_sched_discovery_rescans_total", &l, 1,
				json_object_get_uint64(count));
	}
	prom_family(b, "vmm_sched_discovery_rescan_seconds_total", "counter",
		    "Time the agent spent rescanning VMs' threads in /proc.");
	prom_sample_ns_as_seconds(b, "vmm_sched_discovery_rescan_seconds_total", NULL, 0,
				  jf_u64(disc, "rescan_ns"));
}

void metrics_render_status(struct json_object *status, struct prom_buf *out)
{
	scheduler_metrics(status, out);
	planner_metrics(status, out);
	discovery_metrics(status, out);
	vm_metrics(status, out);
	cpu_metrics(status, out);
}
