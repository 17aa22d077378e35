/* vmm-schedd: the host agent of vmm-sched. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli_options.h"
#include "config_file.h"
#include "control_server.h"
#include "control_socket.h"
#include "daemon.h"
#include "discovery_events.h"
#include "event_loop.h"
#include "hint_regions.h"
#include "host_check_kfuncs.h"
#include "host_checks.h"
#include "host_topology.h"
#include "libvirt_enrol.h"
#include "log.h"
#include "metrics_server.h"
#include "pinned_state.h"
#include "sched_loader.h"
#include "slot_tables.h"
#include "sched_maps.h"
#include "txn.h"
#include "vm_adopt.h"
#include "vm_discovery.h"
#include "vm_enrol.h"
#include "vm_name.h"
#include "vm_release.h"
#include "vmm_sched_ctl.h"

static int build_enclave(struct vs_daemon *d, char *err, size_t errlen)
{
	struct vs_enclave_def *def;
	struct vs_cpuset cpus;
	char why[256], list[256];

	if (host_read_topology(&d->topo, err, errlen))
		return -1;
	if (cpuset_parse(&cpus, d->opt.cpus, why, sizeof(why))) {
		snprintf(err, errlen, "--cpus: %s", why);
		return -1;
	}
	enclave_set_init(&d->enclaves);
	def = &d->enclaves.e[VS_ENCLAVE_DEFAULT];
	if (enclave_from_cpus(&def->enc, &d->topo, &cpus, why, sizeof(why))) {
		snprintf(err, errlen, "--cpus %s: %s", d->opt.cpus, why);
		return -1;
	}
	def->used = true;
	snprintf(def->name, sizeof(def->name), "%s", VS_ENCLAVE_DEFAULT_NAME);
	def->relaxed = d->opt.relaxed;
	def->slice_us = d->opt.slice_us;
	cpuset_format(&def->enc.cpus, list, sizeof(list));
	vs_log("enclave '%s': CPUs %s (%d cores, %d threads per core)", def->name, list,
	       def->enc.nr_cores,
	       topology_threads_per_core(&d->topo, cpuset_next(&def->enc.cpus, 0)));
	return 0;
}

/*
 * With the pinned maps loaded (adopt): gives every recorded thread its policy
 * back, then unregisters and unpins the scheduler, as its agent's SIGTERM would.
 */
static int restore_recorded_and_unload(struct vs_daemon *d, char *err, size_t errlen)
{
	vm_adopt_recorded(d);
	vm_release_all(d);
	vs_sched_detach(d);
	if (slot_tables_size(d, d->opt.max_vms, d->opt.max_vcpus, err, errlen))
		return -1;
	return pinned_state_unload(d->opt.pin_dir, err, errlen);
}

/*
 * A scheduler pinned by an agent that died. Adopt it if it still runs; if the
 * kernel stopped it meanwhile, give its recorded threads their policy back and
 * remove it, so a fresh one can start. Returns whether to adopt, or -1.
 */
static int take_over_pinned(struct vs_daemon *d, bool ours_running, char *err, size_t errlen)
{
	uint32_t abi;

	switch (pinned_state_probe(d->opt.pin_dir, &abi, err, errlen)) {
	case VS_PINNED_ERROR:
	case VS_PINNED_OTHER_ABI:
		return -1;
	case VS_PINNED_NONE:
		if (ours_running) {
			snprintf(err, errlen,
				 "a vmm_sched scheduler runs but nothing is pinned at %s: another "
				 "vmm-schedd with another --pin-dir runs it; stop that one first",
				 d->opt.pin_dir);
			return -1;
		}
		return 0;
	case VS_PINNED_INCOMPLETE:
		vs_log("removing the incomplete pinned state at %s (an agent died while starting)",
		       d->opt.pin_dir);
		return pinned_state_unload(d->opt.pin_dir, err, errlen);
	case VS_PINNED_FOUND:
		break;
	}
	if (vs_sched_load(d, true, err, errlen))
		return -1;
	if (ours_running && !vs_sched_exit_kind(d)) {
		vs_sched_detach(d);
		return 1;
	}
	vs_log("the scheduler pinned at %s no longer runs; restoring the threads it had and "
	       "starting afresh",
	       d->opt.pin_dir);
	if (vs_sched_exit_kind(d))
		vs_sched_report_exit(d);
	return restore_recorded_and_unload(d, err, errlen);
}

/* --unload-pinned: stop a pinned scheduler as its own agent's SIGTERM would. */
static int unload_pinned(struct vs_daemon *d)
{
	char err[1024];
	uint32_t abi;

	if (pinned_state_lock(d, err, sizeof(err))) {
		vs_err("%s", err);
		return 1;
	}
	switch (pinned_state_probe(d->opt.pin_dir, &abi, err, sizeof(err))) {
	case VS_PINNED_ERROR:
		vs_err("%s", err);
		return 1;
	case VS_PINNED_NONE:
		vs_log("nothing is pinned at %s: no scheduler to unload", d->opt.pin_dir);
		return 0;
	case VS_PINNED_INCOMPLETE:
	case VS_PINNED_OTHER_ABI:
		/* Records of another ABI cannot be read: only unload and unpin. */
		if (pinned_state_unload(d->opt.pin_dir, err, sizeof(err))) {
			vs_err("%s", err);
			return 1;
		}
		vs_log("unpinned the scheduler state at %s (ABI %u): the scheduler is unloaded; "
		       "vCPU threads it ran are in the fair class, still bound to its CPUs, "
		       "until a vmm-schedd enrols them again",
		       d->opt.pin_dir, abi);
		return 0;
	case VS_PINNED_FOUND:
		break;
	}
	if (host_read_topology(&d->topo, err, sizeof(err)) ||
	    vs_sched_load(d, true, err, sizeof(err))) {
		vs_err("%s", err);
		vs_sched_detach(d);
		return 1;
	}
	if (restore_recorded_and_unload(d, err, sizeof(err))) {
		vs_err("%s", err);
		return 1;
	}
	vs_log("unloaded the scheduler pinned at %s", d->opt.pin_dir);
	return 0;
}

int main(int argc, char **argv)
{
	static struct vs_daemon d = {.ctl_fd = -1,
				     .pin_lock_fd = -1,
				     .lv = {.msg_fd = -1},
				     .disc = {.fd = -1},
				     .metrics = {.lock = PTHREAD_MUTEX_INITIALIZER}};
	bool ours_running;
	char err[1024];
	int adopt = 0;

	setvbuf(stderr, NULL, _IOLBF, 0);
	/* A control client that hangs up early must not kill the agent. */
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && !strcmp(argv[1], "--check-config")) {
		if (argc > 3) {
			fprintf(stderr, "vmm-schedd: --check-config takes at most one FILE\n");
			return 2;
		}
		return config_file_check(argc == 3 ? argv[2] : VS_CONFIG_DEFAULT);
	}
	options_init(&d.opt);
	if (cli_parse_options(&d.opt, argc, argv))
		return 2;
	if (slot_tables_size(&d, d.opt.max_vms, d.opt.max_vcpus, err, sizeof(err))) {
		vs_err("%s", err);
		return 1;
	}
	for (int cpu = 0; cpu < VS_MAX_CPUS; cpu++)
		cpu_track_init(&d.cpu_track[cpu]);
	if (d.opt.unload_pinned)
		return unload_pinned(&d);
	/* Most specific first: a second daemon on the same socket or port, then the kernel. */
	if (control_prepare(&d, err, sizeof(err)) || metrics_open(&d, err, sizeof(err)) ||
	    host_check_sched_ext(&ours_running, err, sizeof(err)) ||
	    host_check_kfuncs(getenv("VMM_SCHED_KERNEL_BTF"), err, sizeof(err)) ||
	    build_enclave(&d, err, sizeof(err)) || pinned_state_lock(&d, err, sizeof(err))) {
		vs_err("%s", err);
		return 1;
	}
	for (int i = 0; i < d.opt.nr_pids; i++) {
		if (vm_check_enrollable(d.opt.pids[i], err, sizeof(err))) {
			vs_err("--pid %d: %s", d.opt.pids[i], err);
			return 1;
		}
	}
	/* The agent must not page-fault while vCPUs wait on it. */
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		vs_log("mlockall failed (%m): continuing without locked memory");
	adopt = take_over_pinned(&d, ours_running, err, sizeof(err));
	if (adopt < 0 || vs_sched_load(&d, adopt, err, sizeof(err)) ||
	    (adopt && vs_sched_check_adopted(&d, err, sizeof(err))) ||
	    txn_open(&d, err, sizeof(err)) || control_listen(&d, err, sizeof(err)) ||
	    vs_sched_attach(&d, err, sizeof(err))) {
		vs_err("%s", err);
		metrics_close(&d);
		control_close(&d);
		txn_close(&d);
		vs_sched_detach(&d);
		return 1;
	}
	vs_maps_set_hint_policy(&d);
	hints_clear_all(&d);
	if (adopt) {
		vm_adopt_recorded(&d);
		d.pins_owned = true;
		for (int vm_id = 0; vm_id < d.reg.vm_ids; vm_id++)
			if (d.reg.vms[vm_id].used &&
			    hints_attach_default(&d, vm_id, NULL, err, sizeof(err)))
				vs_err("%s", err);
	}
	vs_log("sched_ext scheduler vmm_sched %s (ABI %d, %s core pairing), control socket %s, "
	       "pinned at %s",
	       adopt ? "adopted" : "enabled", VS_ABI_VERSION, d.opt.relaxed ? "relaxed" : "strict",
	       d.opt.control_path, d.opt.pin_dir);
	if (!vs_maps_kick_supported(&d))
		vs_log("this kernel cannot link scx_bpf_kick_cpu() (its BTF lacks the _impl "
		       "twin of an implicit-argument kfunc): a sibling leaves a guest at its "
		       "next tick, not at once");
	else if (d.opt.no_kick)
		vs_log("--no-kick: a sibling leaves a guest at its next tick, not at once");
	/* Before enrolling: a thread created meanwhile is not missed. */
	discovery_start(&d);
	for (int i = 0; i < d.opt.nr_pids; i++) {
		if (registry_find_vm_by_pid(&d.reg, d.opt.pids[i]) >= 0)
			continue; /* adopted */
		struct vs_share_settings share = {
		    .weight = d.opt.weights[i] ? (int)d.opt.weights[i] : VS_SHARE_KEEP,
		    .reserve_cores = VS_SHARE_KEEP,
		    .cap_cores = VS_SHARE_KEEP,
		};

		int vm_id = vm_enroll(&d, d.opt.pids[i], d.opt.names[i], &share, VS_ENCLAVE_DEFAULT,
				      err, sizeof(err));

		if (vm_id < 0 || hints_attach_default(&d, vm_id, NULL, err, sizeof(err))) {
			vs_err("--pid %d: %s", d.opt.pids[i], err);
			d.exit_status = 1;
			d.stop = true;
		}
	}
	if (!d.stop && libvirt_start(&d, err, sizeof(err))) {
		vs_err("%s", err);
		d.exit_status = 1;
		d.stop = true;
	}
	if (!d.stop && event_loop_run(&d))
		d.exit_status = 1;
	libvirt_stop(&d);
	discovery_stop(&d);
	metrics_close(&d);
	vm_release_all(&d);
	control_close(&d);
	txn_close(&d);
	vs_sched_detach(&d);
	vs_log("stopped");
	return d.exit_status;
}
