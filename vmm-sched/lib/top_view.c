/* Over 400 lines: one frame of `top`, from the status deltas to the drawn lines. */
#include "top_view.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cpuset.h"
#include "json_fields.h"

static const char *const sort_names[TOP_NR_SORTS] = {
    [TOP_SORT_NAME] = "name",
    [TOP_SORT_PLANNED] = "planned",
    [TOP_SORT_DELIVERED] = "delivered",
    [TOP_SORT_WAIT] = "wait",
    [TOP_SORT_FORCED_IDLE] = "forced_idle",
};
static const char sort_keys[TOP_NR_SORTS] = "npdwf";
/* VM marks in the grid; past these, '*'. */
static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

int top_sort_from_name(const char *name)
{
	for (int i = 0; i < TOP_NR_SORTS; i++)
		if (strcmp(name, sort_names[i]) == 0)
			return i;
	return -1;
}

int top_sort_from_key(int key)
{
	for (int i = 0; i < TOP_NR_SORTS; i++)
		if (key == sort_keys[i])
			return i;
	return -1;
}

const char *top_sort_name(enum top_sort sort)
{
	return (unsigned int)sort < TOP_NR_SORTS ? sort_names[sort] : "?";
}

/* cur - prev of a counter, 0 if it went back (a restarted scheduler). */
static uint64_t delta(struct json_object *cur, struct json_object *prev, const char *key)
{
	int64_t c = jf_i64(cur, key), p = prev ? jf_i64(prev, key) : c;

	return c > p ? (uint64_t)(c - p) : 0;
}

static struct json_object *find_by(struct json_object *arr, const char *key, int64_t v,
				   const char *key2, int64_t v2)
{
	for (size_t i = 0; i < jf_len(arr); i++) {
		struct json_object *o = jf_at(arr, i);

		if (jf_i64(o, key) == v && (!key2 || jf_i64(o, key2) == v2))
			return o;
	}
	return NULL;
}

static int64_t vcpu_wait_ns(struct json_object *vm)
{
	return (int64_t)jf_sum_u64(jf_obj(vm, "vcpus"), "wait_ns");
}

static void build_vms(struct json_object *prev, struct json_object *cur, double ns,
		      struct top_frame *f)
{
	struct json_object *vms = jf_obj(cur, "vms"), *prev_vms = jf_obj(prev, "vms");

	f->nr_vms = 0;
	for (size_t i = 0; i < jf_len(vms) && f->nr_vms < VS_MAX_VMS; i++) {
		struct json_object *vm = jf_at(vms, i), *pv;
		struct top_vm_row *r = &f->vms[f->nr_vms];
		int64_t wait_now, wait_before;

		memset(r, 0, sizeof(*r));
		r->id = (int)jf_i64(vm, "id");
		r->pid = (int)jf_i64(vm, "pid");
		r->weight = (int)jf_i64(vm, "weight");
		r->vcpus = (int)jf_len(jf_obj(vm, "vcpus"));
		snprintf(r->name, sizeof(r->name), "%s", jf_str(vm, "name"));
		r->letter = f->nr_vms < (int)sizeof(letters) - 1 ? letters[f->nr_vms] : '*';
		r->planned = (double)jf_i64(vm, "share_mcores") / 1000.0;
		/* The same VM in the earlier reply: same id and pid. */
		pv = find_by(prev_vms, "id", r->id, "pid", r->pid);
		if (pv && ns > 0) {
			wait_now = vcpu_wait_ns(vm);
			wait_before = vcpu_wait_ns(pv);
			r->delivered = (double)delta(vm, pv, "run_ns") / ns;
			r->forced_idle = (double)delta(vm, pv, "forced_idle_ns") / ns;
			r->wait =
			    wait_now > wait_before ? (double)(wait_now - wait_before) / ns : 0;
		}
		f->nr_vms++;
	}
}

/*
 * Only a host task running now marks a thread: one that pushed a vCPU off
 * during the interval is counted in the totals, as on a real host every CPU
 * sees a kworker every second and the grid would be all marks.
 */
static void build_cores(struct json_object *cur, struct top_frame *f)
{
	struct json_object *cores = jf_obj(cur, "cores");

	f->nr_cores = 0;
	for (size_t i = 0; i < jf_len(cores) && f->nr_cores < VS_MAX_CPUS; i++) {
		struct json_object *c = jf_at(cores, i), *cl = jf_obj(c, "cpus"),
				   *rv = jf_obj(c, "running_vm"), *host = jf_obj(c, "host");
		struct top_core_cell *cell = &f->cores[f->nr_cores++];

		cell->core = (int)jf_i64(c, "core");
		cell->nr_threads = jf_len(cl) > 2 ? 2 : (int)jf_len(cl);
		for (int th = 0; th < 2; th++) {
			int vm_id = th < (int)jf_len(rv) ? json_object_get_int(jf_at(rv, th)) : -1;

			cell->cpu[th] =
			    th < cell->nr_threads ? json_object_get_int(jf_at(cl, th)) : -1;
			cell->vm[th] = -1;
			for (int v = 0; v < f->nr_vms && vm_id >= 0; v++)
				if (f->vms[v].id == vm_id)
					cell->vm[th] = v;
			cell->host[th] =
			    th < (int)jf_len(host) && json_object_get_int(jf_at(host, th)) != 0;
		}
	}
}

/* Sums the CPUs of @cur that are in @only (NULL: all) into @t, as rates over the interval. */
static void sum_totals(struct json_object *prev, struct json_object *cur,
		       const struct vs_cpuset *only, struct top_totals *t)
{
	struct json_object *cpus = jf_obj(cur, "cpus"), *prev_cpus = jf_obj(prev, "cpus");
	uint64_t vcpu = 0, host = 0, idle = 0, forced = 0, all;

	if (!prev)
		return;
	for (size_t i = 0; i < jf_len(cpus); i++) {
		struct json_object *c = jf_at(cpus, i),
				   *p = find_by(prev_cpus, "cpu", jf_i64(c, "cpu"), NULL, 0);

		if (!p || (only && !cpuset_has(only, (int)jf_i64(c, "cpu"))))
			continue;
		vcpu += delta(c, p, "vcpu_ns");
		host += delta(c, p, "host_ns");
		idle += delta(c, p, "idle_ns") + delta(c, p, "host_idle_ns");
		forced += delta(c, p, "forced_idle_ns");
		t->host_intrusions += delta(c, p, "host_evictions");
	}
	all = vcpu + host + idle + forced;
	if (!all)
		return;
	t->vcpu_pct = 100.0 * (double)vcpu / (double)all;
	t->host_pct = 100.0 * (double)host / (double)all;
	t->idle_pct = 100.0 * (double)idle / (double)all;
	t->forced_idle_pct = 100.0 * (double)forced / (double)all;
}

/* The totals of all enclaves together, then of each one the status lists. */
static void build_totals(struct json_object *prev, struct json_object *cur, struct top_frame *f)
{
	struct json_object *encs = jf_obj(cur, "enclaves");
	struct top_totals *t = &f->enclave;

	memset(t, 0, sizeof(*t));
	snprintf(t->cpus, sizeof(t->cpus), "%s", jf_str(jf_obj(cur, "enclave"), "cpus"));
	t->cores = (int)jf_i64(jf_obj(cur, "enclave"), "cores");
	sum_totals(prev, cur, NULL, t);
	f->nr_enclaves = 0;
	for (size_t i = 0; i < jf_len(encs) && f->nr_enclaves < VS_MAX_ENCLAVES; i++) {
		struct json_object *e = jf_at(encs, i);
		struct top_totals *et = &f->enclaves[f->nr_enclaves];
		struct vs_cpuset set;
		char why[160];

		memset(et, 0, sizeof(*et));
		snprintf(et->name, sizeof(et->name), "%s", jf_str(e, "name"));
		snprintf(et->cpus, sizeof(et->cpus), "%s", jf_str(e, "cpus"));
		et->cores = (int)jf_i64(e, "cores");
		/* An enclave without cores lists none ("" does not parse): nothing to sum. */
		if (et->cores && cpuset_parse(&set, et->cpus, why, sizeof(why)) == 0)
			sum_totals(prev, cur, &set, et);
		f->nr_enclaves++;
	}
}

/* The replies' own clock: when the agent sampled the first CPU. */
static uint64_t sample_interval(struct json_object *prev, struct json_object *cur,
				uint64_t fallback_ns)
{
	struct json_object *c = jf_at(jf_obj(cur, "cpus"), 0),
			   *p = c ? find_by(jf_obj(prev, "cpus"), "cpu", jf_i64(c, "cpu"), NULL, 0)
				  : NULL;
	uint64_t d = p ? delta(c, p, "sampled_ns") : 0;

	return d ? d : fallback_ns;
}

int top_frame_build(struct json_object *prev, struct json_object *cur, uint64_t fallback_ns,
		    enum top_sort sort, struct top_frame *f)
{
	if (!cur || !jf_obj(cur, "vms") || !jf_obj(cur, "cores") || !jf_obj(cur, "cpus"))
		return -1;
	f->interval_ns = prev ? sample_interval(prev, cur, fallback_ns) : 0;
	build_vms(prev, cur, (double)f->interval_ns, f);
	build_cores(cur, f);
	build_totals(prev, cur, f);
	top_frame_sort(f, sort);
	return 0;
}

static double sort_value(const struct top_vm_row *r, enum top_sort sort)
{
	switch (sort) {
	case TOP_SORT_PLANNED:
		return r->planned;
	case TOP_SORT_DELIVERED:
		return r->delivered;
	case TOP_SORT_WAIT:
		return r->wait;
	case TOP_SORT_FORCED_IDLE:
		return r->forced_idle;
	default:
		return 0;
	}
}

/* By name ascending, else by the value descending; ties by name. */
static int compare_rows(const void *a, const void *b, void *sort)
{
	const struct top_vm_row *x = a, *y = b;
	double vx = sort_value(x, *(enum top_sort *)sort),
	       vy = sort_value(y, *(enum top_sort *)sort);

	if (vx != vy)
		return vx < vy ? 1 : -1;
	return strcmp(x->name, y->name) ? strcmp(x->name, y->name) : x->id - y->id;
}

void top_frame_sort(struct top_frame *f, enum top_sort sort)
{
	int old_index[VS_MAX_VMS], where[VS_MAX_VMS];

	/* The grid refers to rows by index: remember who is who across the sort. */
	for (int v = 0; v < f->nr_vms; v++)
		old_index[v] = f->vms[v].id;
	f->sort = sort;
	qsort_r(f->vms, (size_t)f->nr_vms, sizeof(f->vms[0]), compare_rows, &sort);
	for (int v = 0; v < f->nr_vms; v++)
		for (int o = 0; o < f->nr_vms; o++)
			if (old_index[o] == f->vms[v].id)
				where[o] = v;
	for (int c = 0; c < f->nr_cores; c++)
		for (int th = 0; th < 2; th++)
			if (f->cores[c].vm[th] >= 0)
				f->cores[c].vm[th] = where[f->cores[c].vm[th]];
}

struct out {
	char *buf;
	size_t len, used;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->used + 1 >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->used = o->used + (size_t)n < o->len ? o->used + (size_t)n : o->len - 1;
}

/* A VM's colour: one of six backgrounds (not red), black text. */
static int vm_colour(char letter)
{
	const char *p = strchr(letters, letter);

	return 42 + (int)((p ? p - letters : 0) % 6); /* red (41) is for host tasks */
}

static void put_thread(struct out *o, const struct top_frame *f, const struct top_core_cell *c,
		       int th, bool colour)
{
	char mark = '.';

	if (th >= c->nr_threads) {
		put(o, " ");
		return;
	}
	if (c->vm[th] >= 0)
		mark = f->vms[c->vm[th]].letter;
	if (c->host[th] && c->vm[th] < 0)
		mark = 'H';
	if (!colour) {
		put(o, "%c%s", mark, c->host[th] && mark != 'H' ? "!" : "");
		return;
	}
	if (c->host[th])
		put(o, "\033[1;37;41m%c\033[0m", mark == '.' ? 'H' : mark);
	else if (c->vm[th] >= 0)
		put(o, "\033[30;%dm%c\033[0m", vm_colour(mark), mark);
	else
		put(o, "%c", mark);
}

size_t top_frame_render(const struct top_frame *f, bool colour, int width, char *buf, size_t len)
{
	struct out o = {buf, len, 0};
	const struct top_totals *t = &f->enclave;
	int per_line = width > 10 ? (width - 1) / 9 : 1;

	if (len)
		buf[0] = '\0';
	put(&o, "vmm-sched top: enclave %s, %d cores; ", t->cpus, t->cores);
	if (f->interval_ns)
		put(&o, "over %.1f s", (double)f->interval_ns / 1e9);
	else
		put(&o, "rates from the next sample");
	put(&o, "; sort: %s\n", top_sort_name(f->sort));
	put(&o,
	    "enclave  vCPU %5.1f%%  host %5.1f%%  idle %5.1f%%  forced idle %5.1f%%  host "
	    "intrusions %llu\n",
	    t->vcpu_pct, t->host_pct, t->idle_pct, t->forced_idle_pct,
	    (unsigned long long)t->host_intrusions);
	/* With more than one enclave, each one's totals. */
	for (int i = 0; f->nr_enclaves > 1 && i < f->nr_enclaves; i++) {
		const struct top_totals *e = &f->enclaves[i];

		put(&o,
		    "  %-12s CPUs %-10s vCPU %5.1f%%  host %5.1f%%  idle %5.1f%%  forced idle "
		    "%5.1f%%  host intrusions %llu\n",
		    e->name, e->cores ? e->cpus : "-", e->vcpu_pct, e->host_pct, e->idle_pct,
		    e->forced_idle_pct, (unsigned long long)e->host_intrusions);
	}
	put(&o, "\n");
	put(&o, "cores (the VM on each thread; . idle, H host task%s)\n",
	    colour ? "" : ", X! host task beside VM X's vCPU");
	for (int i = 0; i < f->nr_cores; i++) {
		const struct top_core_cell *c = &f->cores[i];

		put(&o, "%4d [", c->core);
		put_thread(&o, f, c, 0, colour);
		put(&o, "|");
		put_thread(&o, f, c, 1, colour);
		put(&o, "]");
		put(&o, (i + 1) % per_line == 0 || i + 1 == f->nr_cores ? "\n" : " ");
	}
	put(&o, "\n  %-16s %4s %8s %6s %5s %7s %9s %7s %11s\n", "VM", "ID", "PID", "WEIGHT",
	    "VCPUS", "PLAN", "DELIVERED", "WAIT", "FORCED_IDLE");
	for (int v = 0; v < f->nr_vms; v++) {
		const struct top_vm_row *r = &f->vms[v];

		if (colour)
			put(&o, "\033[30;%dm%c\033[0m ", vm_colour(r->letter), r->letter);
		else
			put(&o, "%c ", r->letter);
		put(&o, "%-16s %4d %8d %6d %5d %7.2f %9.2f %7.2f %11.2f\n", r->name, r->id, r->pid,
		    r->weight, r->vcpus, r->planned, r->delivered, r->wait, r->forced_idle);
	}
	if (!f->nr_vms)
		put(&o, "  (no VM enrolled)\n");
	put(&o, "\nin cores: PLAN planned; over the interval DELIVERED ran, WAIT runnable not "
		"running,\nFORCED_IDLE siblings kept idle for the VM\n");
	return o.used;
}

static void add_num(struct json_object *o, const char *key, double v)
{
	json_object_object_add(o, key, json_object_new_double((double)(int64_t)(v * 1000) / 1000));
}

struct json_object *top_frame_json(const struct top_frame *f)
{
	struct json_object *o = json_object_new_object(), *encs = json_object_new_array(),
			   *cores = json_object_new_array(), *vms = json_object_new_array();
	const struct top_totals *t = &f->enclave;

	json_object_object_add(o, "interval_ms", json_object_new_int64(f->interval_ns / 1000000));
	json_object_object_add(o, "sort", json_object_new_string(top_sort_name(f->sort)));
	/* One entry per enclave; a status without enclaves[]: one for all the CPUs. */
	for (int i = 0; i < (f->nr_enclaves ? f->nr_enclaves : 1); i++) {
		const struct top_totals *e = f->nr_enclaves ? &f->enclaves[i] : t;
		struct json_object *enc = json_object_new_object();

		if (e->name[0])
			json_object_object_add(enc, "name", json_object_new_string(e->name));
		json_object_object_add(enc, "cpus", json_object_new_string(e->cpus));
		json_object_object_add(enc, "cores", json_object_new_int(e->cores));
		add_num(enc, "vcpu_pct", e->vcpu_pct);
		add_num(enc, "host_pct", e->host_pct);
		add_num(enc, "idle_pct", e->idle_pct);
		add_num(enc, "forced_idle_pct", e->forced_idle_pct);
		json_object_object_add(enc, "host_intrusions",
				       json_object_new_uint64(e->host_intrusions));
		json_object_array_add(encs, enc);
	}
	json_object_object_add(o, "enclaves", encs);
	for (int i = 0; i < f->nr_cores; i++) {
		const struct top_core_cell *c = &f->cores[i];
		struct json_object *co = json_object_new_object(), *cpus = json_object_new_array(),
				   *vm = json_object_new_array(), *host = json_object_new_array();

		json_object_object_add(co, "core", json_object_new_int(c->core));
		for (int th = 0; th < c->nr_threads; th++) {
			json_object_array_add(cpus, json_object_new_int(c->cpu[th]));
			json_object_array_add(
			    vm, json_object_new_int(c->vm[th] >= 0 ? f->vms[c->vm[th]].id : -1));
			json_object_array_add(host, json_object_new_boolean(c->host[th]));
		}
		json_object_object_add(co, "cpus", cpus);
		json_object_object_add(co, "vm", vm);
		json_object_object_add(co, "host", host);
		json_object_array_add(cores, co);
	}
	json_object_object_add(o, "cores", cores);
	for (int v = 0; v < f->nr_vms; v++) {
		const struct top_vm_row *r = &f->vms[v];
		struct json_object *vo = json_object_new_object();

		json_object_object_add(vo, "id", json_object_new_int(r->id));
		json_object_object_add(vo, "name", json_object_new_string(r->name));
		json_object_object_add(vo, "pid", json_object_new_int(r->pid));
		json_object_object_add(vo, "weight", json_object_new_int(r->weight));
		json_object_object_add(vo, "vcpus", json_object_new_int(r->vcpus));
		add_num(vo, "planned_cores", r->planned);
		add_num(vo, "delivered_cores", r->delivered);
		add_num(vo, "wait_cores", r->wait);
		add_num(vo, "forced_idle_cores", r->forced_idle);
		json_object_array_add(vms, vo);
	}
	json_object_object_add(o, "vms", vms);
	return o;
}
