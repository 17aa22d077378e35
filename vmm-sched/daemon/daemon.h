/* vmm-schedd: the state of the host agent and the adapters around the policy library. */
#ifndef VS_DAEMON_H
#define VS_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "core_cookie.h"
#include "ctl_conn.h"
#include "enclave_set.h"
#include "ratelimit.h"
#include "libvirt_enrol.h"
#include "listen_addr.h"
#include "options.h"
#include "registry.h"
#include "share_plan.h"
#include "topology.h"
#include "txn_outcome.h"
#include "vcpu_track.h"

struct vmm_sched;
struct bpf_link;
struct ring_buffer;
struct vs_hint_vm;
struct json_object;

struct vs_msg_counters {
	uint64_t received, stale, invalid;
	uint64_t late;	     /* applied more than VS_MSG_LATE_NS after they were sent */
	uint64_t resyncs;    /* state rebuilt from the maps after messages were dropped */
	uint64_t drops_seen; /* the scheduler's msg_drops at the last resync */
	uint64_t poll_ns;    /* CLOCK_MONOTONIC when the current batch was read */
};
#define VS_MSG_LATE_NS 100000000ULL
/*
 * The agent reads the message ring at least this often: the scheduler wakes
 * it only for vCPU arrivals and departures or a ring a quarter full.
 */
#define VS_MSG_DRAIN_MS 20

/* The share plan (share_tick.c), redone every VS_SHARE_TICK_MS. */
#define VS_SHARE_TICK_MS     100
#define VS_CORE_SLICE_MIN_NS 2000000ULL
#define VS_CORE_SLICE_MAX_NS 50000000ULL
struct vs_share_state {
	struct share_plan plan;		       /* the latest, for status (all enclaves' VMs) */
	unsigned int active_vcpus[VS_MAX_VMS]; /* each VM's demand at the latest plan */
	bool error_logged;		       /* the settings cannot be planned: said once */
	bool overcommit_logged;		       /* reservations above the enclave: said once */
	struct vs_vm_ctx vm_ctx[VS_MAX_VMS];   /* as last written to BPF */
	uint64_t plans, plan_ns;	       /* plans made and the agent time they took */
};

/* The control socket's server (control_server.c). */
struct vs_ctl_server {
	int epoll_fd; /* the listening socket and every connection */
	bool have_group;
	gid_t group; /* --control-group */
	struct vs_ctl_conn conns[VS_CTL_MAX_CONNS];
	uint64_t timed_out, evicted, refused_conns, denied;
	uint64_t denied_logged_ns, drop_logged_ns; /* for rate-limited log lines */
	uint64_t denied_unlogged, drops_unlogged;
};

struct vs_daemon {
	struct vs_options opt;
	struct vs_topology topo;
	struct vs_enclave_set enclaves;
	struct vs_registry reg;
	struct vs_vcpu_track vcpu_track[VS_MAX_VCPUS];
	struct vs_cpu_track cpu_track[VS_MAX_CPUS];
	struct vs_msg_counters msgs;
	struct vs_share_state share;

	struct vmm_sched *skel;
	struct bpf_link *link;
	struct bpf_link *switch_link;
	struct ring_buffer *ringbuf;
	int pin_lock_fd; /* the pin directory, flock()ed while this agent runs */
	bool pins_owned; /* remove the pinned state when the agent stops */
	bool adopted;	 /* the scheduler was loaded by a previous agent */
	int ctl_fd;	 /* the listening socket */
	struct vs_ctl_server ctl;
	struct vs_libvirt lv;			/* libvirt_enrol.h */
	bool escapes_pending;			/* a vCPU's affinity left the enclave */
	struct vs_ratelimit vm_log[VS_MAX_VMS]; /* repeated lines about each VM */
	struct vs_hint_vm *hints[VS_MAX_VMS];	/* guest hint regions (hint_regions.c) */
	uint32_t hint_flags[VS_MAX_VCPUS];	/* vcpu_hints as last written */
	uint64_t hint_disables_gone;		/* of VMs released since */
	bool stop;
	int exit_status;
};

/* log.c */
void vs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vs_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vs_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, at most a few lines a minute per @rl; then says how many were held back. */
void vs_log_limited(struct vs_ratelimit *rl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vs_err_limited(struct vs_ratelimit *rl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * host_checks.c: can this kernel run us at all? *ours_running says vmm_sched
 * is the enabled scheduler (a previous agent's, to adopt); any other loaded
 * scheduler is an error.
 */
int host_check_sched_ext(bool *ours_running, char *err, size_t errlen);
/*
 * host_check_kfuncs.c: are the kfuncs the scheduler declares sound in the
 * kernel's BTF (@btf_path, or the running kernel's if NULL)? Logs what each
 * unsound one costs; fails with one line if one the scheduler needs is unsound.
 */
int host_check_kfuncs(const char *btf_path, char *err, size_t errlen);
/* host_topology.c */
int host_read_topology(struct vs_topology *topo, char *err, size_t errlen);

/* pinned_state.c: the pins under --pin-dir that let the scheduler outlive the agent. */
enum vs_pinned {
	VS_PINNED_ERROR = -1, /* unreadable or not ours: err says what */
	VS_PINNED_NONE,	      /* nothing pinned */
	VS_PINNED_INCOMPLETE, /* an agent died while starting: no stamp */
	VS_PINNED_FOUND,      /* a scheduler of this ABI */
	VS_PINNED_OTHER_ABI,  /* a scheduler of another ABI (*abi_out): err says the way out */
};
enum vs_pinned pinned_state_probe(const char *dir, uint32_t *abi_out, char *err, size_t errlen);
/* Creates the pin directory if needed and locks it: one agent per pinned scheduler. */
int pinned_state_lock(struct vs_daemon *d, char *err, size_t errlen);
/* Before load: pin every map (fresh) or reuse the pinned ones (adopt). */
int pinned_maps_prepare(struct vs_daemon *d, bool adopt, char *err, size_t errlen);
/* After attach: pin both links and write the stamp. */
int pinned_links_pin(struct vs_daemon *d, char *err, size_t errlen);
int pinned_links_open(struct vs_daemon *d, char *err, size_t errlen);
/*
 * Unregisters the pinned struct_ops map, then unpins everything under dir
 * (which stays). The map is registered without a kernel link (libbpf gives a
 * link only for ".struct_ops.link"), so closing fds never unloads it.
 */
int pinned_state_unload(const char *dir, char *err, size_t errlen);

/*
 * bpf_sched.c: the sched_ext scheduler. With adopt, the pinned maps of a
 * running scheduler are reused and only the commit program is loaded.
 */
int bpf_sched_load(struct vs_daemon *d, bool adopt, char *err, size_t errlen);
int bpf_sched_attach(struct vs_daemon *d, char *err, size_t errlen);
/* The adopted scheduler's enclave and settings must be the ones asked for. */
int bpf_sched_check_adopted(struct vs_daemon *d, char *err, size_t errlen);
/* Rebuilds the agent's view of every vCPU and CPU from the maps. */
void bpf_sched_resync(struct vs_daemon *d);
int bpf_sched_record_vm(struct vs_daemon *d, int vm_id, uint64_t start_time);
int bpf_sched_record_vcpu(struct vs_daemon *d, int slot);
void bpf_sched_forget_vm(struct vs_daemon *d, int vm_id);
void bpf_sched_forget_vcpu(struct vs_daemon *d, int slot);
/* Enclaves (enclave_ops.c changes them): cpu_ctx of @cpu from d->enclaves. */
int bpf_sched_write_cpu(struct vs_daemon *d, int cpu);
/* enclave_ctx and the agent's record of enclave @id, from d->enclaves. */
int bpf_sched_write_enclave(struct vs_daemon *d, int id);
void bpf_sched_set_enclave_plan(struct vs_daemon *d, int id, uint64_t core_slice_ns,
				uint64_t pair_window_ns);
/* core_state of the core of @core_cpu, fresh: unowned, empty, serving its enclave if open. */
int bpf_sched_init_core(struct vs_daemon *d, int core_cpu, bool closed);
/*
 * Runs vs_core_gate: close the core (kicking what runs there; *empty says
 * whether nothing of a VM is left on it) or open it for its cpu_ctx enclave.
 */
int bpf_sched_core_gate(struct vs_daemon *d, int core_cpu, bool open, bool *empty);
int bpf_sched_read_vm_record(struct vs_daemon *d, int vm_id, struct vs_agent_vm *out);
int bpf_sched_read_vcpu_record(struct vs_daemon *d, int slot, struct vs_agent_vcpu *out);
int bpf_sched_lookup_vcpu(struct vs_daemon *d, int tid, struct vs_vcpu_id *out);
void bpf_sched_detach(struct vs_daemon *d);
int bpf_sched_map_vcpu(struct vs_daemon *d, int tid, int vm_id, int vcpu_index, int slot);
void bpf_sched_unmap_vcpu(struct vs_daemon *d, int tid);
void bpf_sched_set_vm_active(struct vs_daemon *d, int vm_id, bool active);
/* Writes vm_ctx[vm_id] if it differs from what was written last. */
void bpf_sched_write_vm_ctx(struct vs_daemon *d, int vm_id, const struct vs_vm_ctx *v);
void bpf_sched_set_plan(struct vs_daemon *d, uint64_t core_slice_ns, uint64_t pair_window_ns,
			bool caps_in_use);
/* vcpu_hints[slot] = @flags (VS_HINT_*); 0 or -errno, logged. */
int bpf_sched_write_hint(struct vs_daemon *d, int slot, uint32_t flags);
/* The slice extension and its budget (--cs-extension-us, --cs-budget-pct). */
void bpf_sched_set_hint_policy(struct vs_daemon *d);
uint64_t bpf_sched_pair_window_ns(struct vs_daemon *d);
uint64_t bpf_sched_core_slice_ns(struct vs_daemon *d);
/* share_tick.c: the share plan from the last interval's demand, into BPF. */
void share_tick(struct vs_daemon *d);
int bpf_sched_read_vcpu_stats(struct vs_daemon *d, int slot, struct vs_vcpu_stats *out);
int bpf_sched_read_cpu_stats(struct vs_daemon *d, int cpu, struct vs_cpu_stats *out);
int bpf_sched_read_vm_state(struct vs_daemon *d, int vm_id, struct vs_vm_state *out);
int bpf_sched_read_core_state(struct vs_daemon *d, int core_id, struct vs_core_state *out);
uint64_t bpf_sched_msg_drops(struct vs_daemon *d);
uint64_t bpf_sched_stray_enqueues(struct vs_daemon *d);
bool bpf_sched_kick_supported(struct vs_daemon *d);
/* "on", "off" (--no-kick) or "unsupported" (the kernel cannot link the kick). */
const char *bpf_sched_kick_mode(struct vs_daemon *d);
struct vs_sched_counters {
	uint64_t self_check_overlaps, unclaimed_runs, misplaced_runs, txn_group_partial;
	uint64_t late_adoptions; /* threads already in SCHED_EXT made vCPUs when listed */
	uint64_t switch_overlaps, unrecorded_switches;
	uint64_t starved_grants; /* cores given to a VM none of whose vCPUs ran for 5 s */
	uint64_t pair_grants;	 /* handovers to a VM with two vCPUs to run, in a near tie */
	uint64_t kicks;		 /* CPUs made to reschedule at once (scx_bpf_kick_cpu) */
	uint64_t host_starts;	 /* vCPUs that started beside a host task (strict), cut at once */
	uint64_t drains, drain_ns, drain_max_ns; /* owner changes that waited for a sibling */
	uint64_t txn_outcomes[VS_TXN_NR_OUTCOMES];
};
void bpf_sched_read_counters(struct vs_daemon *d, struct vs_sched_counters *out);
/* Non-zero once the kernel disabled the scheduler; then exit_info says why. */
int bpf_sched_exit_kind(struct vs_daemon *d);
void bpf_sched_report_exit(struct vs_daemon *d);
int bpf_sched_poll_messages(struct vs_daemon *d);
int bpf_sched_message_fd(struct vs_daemon *d);

/* vcpu_threads.c: moving threads in and out of SCHED_EXT. */
int thread_save_sched(int tid, struct vs_saved_sched *out, char *err, size_t errlen);
int thread_enter_enclave(int tid, const struct vs_enclave *enc, char *err, size_t errlen);
int thread_restore_sched(int tid, const struct vs_saved_sched *saved, char *err, size_t errlen);
/* sched_setaffinity(@tid, @cpus); -1 with errno. */
int thread_pin(int tid, const struct vs_cpuset *cpus);
/* Reads /proc/PID/comm into buf; -1 if no such process. */
int process_comm(int pid, char *buf, size_t len);
int thread_affinity(int tid, struct vs_cpuset *out);
/*
 * Field 22 of /proc/PID/stat and /proc/PID/task/TID/stat (start time in
 * ticks), 0 if there is no such process or thread. A pid or tid is acted on
 * only while its start time is the one recorded: ids are reused.
 */
uint64_t process_start_time(int pid);
uint64_t thread_start_time(int pid, int tid);

/* kvm_fds.c: the KVM VM and vCPU files process @pid holds (kvm_evidence.h); -1 if unreadable. */
struct vs_kvm_evidence;
int kvm_evidence_of_process(int pid, struct vs_kvm_evidence *ev);

/*
 * core_cookie.c: called before thread @tid of VM @vm_id enters SCHED_EXT. Clears
 * its PR_SCHED_CORE cookie (logged) or, with --core-cookie refuse, returns -1 with
 * err naming the thread; -1 too if the cookie cannot be read or cleared.
 */
int core_cookie_prepare(struct vs_daemon *d, int vm_id, int tid, char *err, size_t errlen);

/*
 * numa_home_read.c: the node holding most of process @pid's memory, or
 * VS_NUMA_NODE_UNKNOWN: then err is empty (no NUMA) or says what failed.
 */
int numa_home_of_process(int pid, char *err, size_t errlen);

/* vm_manager.c: enrol and release VMs (registry + threads + BPF maps). */
/* Does @pid exist and have vCPU threads? Checked before loading anything. */
int vm_check_enrollable(int pid, char *err, size_t errlen);
int vm_enroll(struct vs_daemon *d, int pid, const char *name, const struct vs_share_settings *share,
	      int enclave, char *err, size_t errlen);
/*
 * Pins every vCPU thread of @vm_id to @cpus (its enclave's CPUs, or fewer
 * while a core leaves): a vCPU on a CPU outside them is moved off at once.
 * Returns how many threads could not be pinned (logged).
 */
int vm_pin_vcpus(struct vs_daemon *d, int vm_id, const struct vs_cpuset *cpus);
/* The enclave of @vm_id. */
const struct vs_enclave *vm_enclave(struct vs_daemon *d, int vm_id);
/* Changes an enrolled VM's weight, reservation or cap (VS_SHARE_KEEP fields stay). */
int vm_set_share(struct vs_daemon *d, int vm_id, const struct vs_share_settings *share, char *err,
		 size_t errlen);
int vm_release(struct vs_daemon *d, int vm_id);
void vm_release_all(struct vs_daemon *d);
/* Picks up new vCPU threads and forgets exited ones and VMs. */
void vm_rescan_all(struct vs_daemon *d);
/* Takes out of SCHED_EXT every vCPU whose affinity allows no enclave CPU. */
void vm_release_escaped(struct vs_daemon *d);
/* Rebuilds the registry from the pinned records of a previous agent. */
void vm_adopt_recorded(struct vs_daemon *d);

/*
 * hint_regions.c: guest hint regions (docs/guest-abi.md). hints_attach maps
 * @path for VM @vm_id; hints_attach_default does so for @path if given, else
 * for <hints-dir>/<VM name> if that file exists. hints_tick reads every
 * region and mirrors the valid hints into vcpu_hints.
 */
int hints_attach(struct vs_daemon *d, int vm_id, const char *path, char *err, size_t errlen);
int hints_attach_default(struct vs_daemon *d, int vm_id, const char *path, char *err,
			 size_t errlen);
void hints_detach(struct vs_daemon *d, int vm_id);
void hints_tick(struct vs_daemon *d);
/* Zeroes every vCPU's hints in the map (a previous agent's may linger). */
void hints_clear_all(struct vs_daemon *d);
struct json_object *hints_status_json(struct vs_daemon *d, int vm_id); /* NULL: no region */
uint64_t hints_disables_total(struct vs_daemon *d);

/*
 * enclave_ops.c: enclaves changed live. Each checks with lib/enclave_set.c
 * first: -1 with err and nothing changed if refused. A core leaving an
 * enclave is drained first (no vCPU runs there once it has left).
 */
void enclave_load_of(struct vs_daemon *d, int id, struct vs_enclave_load *out);
int enclave_create(struct vs_daemon *d, const char *name, const struct vs_cpuset *cpus, int pairing,
		   unsigned int slice_us, char *err, size_t errlen);
int enclave_destroy(struct vs_daemon *d, const char *name, bool force, char *err, size_t errlen);
int enclave_add_cores(struct vs_daemon *d, const char *name, const struct vs_cpuset *cpus,
		      char *err, size_t errlen);
int enclave_remove_cores(struct vs_daemon *d, const char *name, const struct vs_cpuset *cpus,
			 char *err, size_t errlen);
int vm_move(struct vs_daemon *d, int vm_id, const char *name, char *err, size_t errlen);
/* The plan as a JSON array of {cpus, from, to}, carried out unless @dry_run; NULL with err. */
struct json_object *enclave_rebalance(struct vs_daemon *d, bool dry_run, char *err, size_t errlen);

/* txn.c: agent transactions (place a vCPU on a CPU if its seqnum is current). */
struct vs_placement {
	int tid;
	int cpu;
	bool have_seqnum; /* else the seqnum the agent last saw */
	uint32_t seqnum;
	uint32_t outcome; /* out: enum vs_txn_outcome */
};
int txn_open(struct vs_daemon *d, char *err, size_t errlen);
void txn_close(void);
/* One placement, or two on the threads of one core (a group: both or neither). */
int txn_place(struct vs_daemon *d, struct vs_placement *pl, int n, char *err, size_t errlen);

/* control_server.c */
/* Before anything is loaded: -1 with err if a live daemon answers on the path or
 * --control-group names no group. */
int control_prepare(struct vs_daemon *d, char *err, size_t errlen);
int control_listen(struct vs_daemon *d, char *err, size_t errlen);
/* The fd the event loop polls: readable when a connection needs the agent. */
int control_poll_fd(struct vs_daemon *d);
/* Serves what is ready without waiting on any client. */
void control_on_ready(struct vs_daemon *d);
/* From the loop's timer: drops connections past their deadline. */
void control_on_tick(struct vs_daemon *d);
void control_close(struct vs_daemon *d);
/* The server's connections and what it dropped or refused, for status. */
struct json_object *control_status_json(struct vs_daemon *d);

/* status_json.c: returns a json_object * (json-c). */
struct json_object *status_to_json(struct vs_daemon *d);
/* Each enclave: name, cpus, cores, pairing, slice_us, vms, reserved_cores. */
struct json_object *enclaves_json(struct vs_daemon *d);

/*
 * metrics_server.c: --metrics-listen. metrics_open() binds (errors before
 * anything is loaded) and starts the server thread; metrics_publish() renders
 * the status for the next scrapes, every VS_METRICS_PUBLISH_MS.
 */
#define VS_METRICS_PUBLISH_MS 1000
int metrics_open(struct vs_daemon *d, char *err, size_t errlen);
void metrics_publish(struct vs_daemon *d);
void metrics_close(struct vs_daemon *d);

/* event_loop.c */
int event_loop_run(struct vs_daemon *d);

#endif
