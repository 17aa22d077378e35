/* The message channel from the scheduler: its ring buffer, consumed into vcpu_track and cpu_track.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "daemon.h"
#include "log.h"
#include "sched_maps.h"
#include "sched_messages.h"
#include "vmm_sched.skel.h"

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int handle_message(void *ctx, void *data, size_t len)
{
	struct vs_daemon *d = ctx;
	const struct vs_msg *m = data;
	int slot;

	d->msgs.received++;
	if (!msg_valid(m, (uint32_t)len)) {
		d->msgs.invalid++;
		return 0;
	}
	if (d->msgs.poll_ns > m->timestamp + VS_MSG_LATE_NS)
		d->msgs.late++;
	/* A released vCPU's late message names a slot no longer (or no longer its) in use. */
	slot = m->slot < (uint32_t)d->reg.vcpu_slots && d->reg.vcpus[m->slot].used &&
		       d->reg.vcpus[m->slot].tid == (int)m->tid
		   ? (int)m->slot
		   : -1;
	if (slot >= 0 && vcpu_track_apply(&d->vcpu_track[slot], m) == VS_STALE)
		d->msgs.stale++;
	if (slot >= 0 && m->type == VS_MSG_VCPU_ESCAPED)
		d->escapes_pending = true;
	if (cpu_track_apply(&d->cpu_track[m->cpu], m) == VS_STALE)
		d->msgs.stale++;
	return 0;
}

int vs_msgs_open(struct vs_daemon *d, char *err, size_t errlen)
{
	d->ringbuf = ring_buffer__new(bpf_map__fd(d->skel->maps.messages), handle_message, d, NULL);
	if (!d->ringbuf) {
		snprintf(err, errlen, "cannot open the message ring buffer: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void vs_msgs_close(struct vs_daemon *d)
{
	if (!d->ringbuf)
		return;
	/* Drain what is left so tracking ends consistent; errors do not matter now. */
	ring_buffer__consume(d->ringbuf);
	ring_buffer__free(d->ringbuf);
	d->ringbuf = NULL;
}

int vs_msgs_poll(struct vs_daemon *d)
{
	int n;

	/* Once per batch (bpf_ktime_get_ns() is CLOCK_MONOTONIC): lateness needs no more. */
	d->msgs.poll_ns = monotonic_ns();
	n = ring_buffer__consume(d->ringbuf);
	return n < 0 ? n : 0;
}

int vs_msgs_fd(struct vs_daemon *d)
{
	return ring_buffer__epoll_fd(d->ringbuf);
}

void vs_msgs_resync(struct vs_daemon *d)
{
	struct vs_cpuset all;
	int slot, cpu;

	registry_for_each_vcpu(slot, &d->reg)
	{
		struct vs_vcpu_stats st;

		if (!vs_maps_read_vcpu_stats(d, slot, &st))
			vcpu_track_resync(&d->vcpu_track[slot], st.seqnum, st.last_msg,
					  (int)st.last_cpu);
	}
	enclave_set_all_cpus(&d->enclaves, &all);
	cpuset_for_each(cpu, &all)
	{
		struct vs_cpu_stats cs;
		struct vs_core_state core;
		int core_id = d->topo.core_of[cpu], running = 0;

		if (vs_maps_read_cpu_stats(d, cpu, &cs))
			continue;
		if (!vs_maps_read_core_state(d, core_id, &core))
			for (int i = 0; i < VS_THREADS_PER_CORE; i++)
				if (core.cpu[i] == cpu && core.running_vm[i] != VS_VM_NONE)
					running = (int)core.running_tid[i];
		cpu_track_resync(&d->cpu_track[cpu], cs.cpu_seqnum, running);
	}
	d->msgs.resyncs++;
}
