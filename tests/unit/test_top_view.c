/*
 * Unit tests: what `vmm-schedctl top` computes and shows from two status
 * replies (vmm-sched/lib/top_view.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "json_fields.h"
#include "top_view.h"

/*
 * A status reply of an enclave of two cores (CPUs 0,1 and 2,3) and two VMs,
 * at time @t_ms, with the VMs' counters scaled by @k: web (id 0) runs on CPUs
 * 0 and 1, db (id 3) on CPU 2, a host task on CPU 3.
 */
static struct json_object *status_at(int t_ms, int k, int evictions)
{
	char text[4096];
	long long t = (long long)t_ms * 1000000LL;

	snprintf(text, sizeof(text),
		 "{\"version\":1,\"ok\":true,\"enclave\":{\"cpus\":\"0-3\",\"cores\":2,"
		 "\"threads_per_core\":2},"
		 "\"cpus\":["
		 "{\"cpu\":0,\"vcpu_ns\":%lld,\"host_ns\":0,\"idle_ns\":0,\"host_idle_ns\":0,"
		 "\"forced_idle_ns\":0,\"host_evictions\":0,\"sampled_ns\":%lld},"
		 "{\"cpu\":1,\"vcpu_ns\":%lld,\"host_ns\":0,\"idle_ns\":0,\"host_idle_ns\":0,"
		 "\"forced_idle_ns\":0,\"host_evictions\":0,\"sampled_ns\":%lld},"
		 "{\"cpu\":2,\"vcpu_ns\":%lld,\"host_ns\":0,\"idle_ns\":0,\"host_idle_ns\":0,"
		 "\"forced_idle_ns\":0,\"host_evictions\":0,\"sampled_ns\":%lld},"
		 "{\"cpu\":3,\"vcpu_ns\":0,\"host_ns\":%lld,\"idle_ns\":0,\"host_idle_ns\":0,"
		 "\"forced_idle_ns\":0,\"host_evictions\":%d,\"sampled_ns\":%lld}],"
		 "\"cores\":["
		 "{\"core\":0,\"cpus\":[0,1],\"running_vm\":[0,0],\"host\":[0,0]},"
		 "{\"core\":2,\"cpus\":[2,3],\"running_vm\":[3,-1],\"host\":[0,%d]}],"
		 "\"vms\":["
		 "{\"id\":0,\"name\":\"web\",\"pid\":100,\"weight\":200,\"share_mcores\":1500,"
		 "\"run_ns\":%lld,\"forced_idle_ns\":0,\"vcpus\":[{\"wait_ns\":%lld},"
		 "{\"wait_ns\":0}]},"
		 "{\"id\":3,\"name\":\"db\",\"pid\":300,\"weight\":100,\"share_mcores\":500,"
		 "\"run_ns\":%lld,\"forced_idle_ns\":%lld,\"vcpus\":[{\"wait_ns\":0}]}]}",
		 t, t, t, t, t / 2, t, t / 2, evictions, t, k ? 1 : 0, 2 * t, t / 4, t / 2, t / 2);
	return json_tokener_parse(text);
}

static const struct top_vm_row *row(const struct top_frame *f, const char *name)
{
	for (int v = 0; v < f->nr_vms; v++)
		if (strcmp(f->vms[v].name, name) == 0)
			return &f->vms[v];
	fail_msg("no row for VM %s", name);
	return NULL;
}

static void test_rates(void **state)
{
	struct json_object *a = status_at(1000, 0, 0), *b = status_at(3000, 1, 2);
	struct top_frame *f = malloc(sizeof(*f));

	assert_int_equal(top_frame_build(a, b, 999, TOP_SORT_NAME, f), 0);
	assert_int_equal(f->interval_ns, 2000000000ULL); /* from sampled_ns, not the fallback */
	assert_int_equal(f->nr_vms, 2);
	/* web: run 2t -> 2 cores; wait t/4 -> 0.25; plan 1.5 */
	assert_true(row(f, "web")->delivered > 1.99 && row(f, "web")->delivered < 2.01);
	assert_true(row(f, "web")->wait > 0.249 && row(f, "web")->wait < 0.251);
	assert_true(row(f, "web")->planned == 1.5);
	assert_int_equal(row(f, "web")->vcpus, 2);
	/* db: run t/2 -> 0.5 cores, forced idle t/2 -> 0.5 */
	assert_true(row(f, "db")->delivered > 0.49 && row(f, "db")->delivered < 0.51);
	assert_true(row(f, "db")->forced_idle > 0.49 && row(f, "db")->forced_idle < 0.51);
	/* totals: 2t + t/2 of vCPU and t/2 of host over 4 CPUs' deltas */
	assert_true(f->enclave.vcpu_pct > 83.2 && f->enclave.vcpu_pct < 83.4);
	assert_true(f->enclave.host_pct > 16.6 && f->enclave.host_pct < 16.7);
	assert_int_equal(f->enclave.host_intrusions, 2);
	assert_string_equal(f->enclave.cpus, "0-3");
	/* the grid: web on both threads of core 0, db and a host task on core 2 */
	assert_int_equal(f->nr_cores, 2);
	assert_string_equal(f->vms[f->cores[0].vm[0]].name, "web");
	assert_string_equal(f->vms[f->cores[0].vm[1]].name, "web");
	assert_string_equal(f->vms[f->cores[1].vm[0]].name, "db");
	assert_int_equal(f->cores[1].vm[1], -1);
	assert_true(f->cores[1].host[1]);
	assert_false(f->cores[0].host[0]);
	json_object_put(b);
	/*
	 * Host tasks that pushed vCPUs off during the interval are counted, but
	 * only one running now marks the grid: on a real host every CPU sees a
	 * kworker every second, and the grid would be all marks.
	 */
	b = status_at(3000, 0, 5);
	top_frame_build(a, b, 0, TOP_SORT_NAME, f);
	assert_int_equal(f->enclave.host_intrusions, 5);
	assert_false(f->cores[1].host[1]);
	json_object_put(a);
	json_object_put(b);
	free(f);
}

/* Two enclaves in the status: each gets its own totals, in the text and the JSON. */
static void add_two_enclaves(struct json_object *st)
{
	json_object_object_add(
	    st, "enclaves",
	    json_tokener_parse("[{\"name\":\"front\",\"cpus\":\"0-1\",\"cores\":1},"
			       "{\"name\":\"back\",\"cpus\":\"2-3\",\"cores\":1},"
			       "{\"name\":\"spare\",\"cpus\":\"\",\"cores\":0}]"));
}

static void test_enclave_totals(void **state)
{
	struct json_object *a = status_at(1000, 0, 0), *b = status_at(3000, 1, 2), *j, *encs;
	struct top_frame *f = malloc(sizeof(*f));
	char text[8192];

	add_two_enclaves(a);
	add_two_enclaves(b);
	assert_int_equal(top_frame_build(a, b, 0, TOP_SORT_NAME, f), 0);
	assert_int_equal(f->nr_enclaves, 3);
	/* front: CPUs 0 and 1 ran vCPUs all the time */
	assert_string_equal(f->enclaves[0].name, "front");
	assert_true(f->enclaves[0].vcpu_pct > 99.9);
	assert_int_equal(f->enclaves[0].host_intrusions, 0);
	/* back: over the 2 s, CPU 2 ran a vCPU for 1 s and CPU 3 a host task for 1 s */
	assert_string_equal(f->enclaves[1].name, "back");
	assert_true(f->enclaves[1].vcpu_pct > 49.9 && f->enclaves[1].vcpu_pct < 50.1);
	assert_true(f->enclaves[1].host_pct > 49.9 && f->enclaves[1].host_pct < 50.1);
	assert_int_equal(f->enclaves[1].host_intrusions, 2);
	assert_true(f->enclaves[2].vcpu_pct == 0 && f->enclaves[2].cores == 0);
	top_frame_render(f, false, 80, text, sizeof(text));
	assert_non_null(strstr(text, "front"));
	assert_non_null(strstr(text, "back"));
	j = top_frame_json(f);
	encs = jf_obj(j, "enclaves");
	assert_int_equal(jf_len(encs), 3);
	assert_string_equal(jf_str(jf_at(encs, 1), "name"), "back");
	assert_int_equal(jf_i64(jf_at(encs, 1), "host_intrusions"), 2);
	json_object_put(j);
	json_object_put(a);
	json_object_put(b);
	free(f);
}

/* A first frame (no earlier reply) shows plans but no rates. */
static void test_first_frame(void **state)
{
	struct json_object *b = status_at(3000, 1, 0), *empty = json_object_new_object();
	struct top_frame *f = malloc(sizeof(*f));

	assert_int_equal(top_frame_build(NULL, b, 0, TOP_SORT_WAIT, f), 0);
	assert_true(row(f, "web")->delivered == 0 && row(f, "web")->planned == 1.5);
	assert_int_equal(top_frame_build(NULL, empty, 0, TOP_SORT_WAIT, f), -1);
	json_object_put(empty);
	json_object_put(b);
	free(f);
}

static void test_sort_keeps_grid(void **state)
{
	struct json_object *a = status_at(1000, 0, 0), *b = status_at(3000, 1, 0);
	struct top_frame *f = malloc(sizeof(*f));

	top_frame_build(a, b, 0, TOP_SORT_NAME, f);
	assert_string_equal(f->vms[0].name, "db");
	top_frame_sort(f, TOP_SORT_DELIVERED);
	assert_string_equal(f->vms[0].name, "web");
	top_frame_sort(f, TOP_SORT_FORCED_IDLE);
	assert_string_equal(f->vms[0].name, "db");
	top_frame_sort(f, TOP_SORT_PLANNED);
	assert_string_equal(f->vms[0].name, "web");
	/* rows moved; the grid still names the VM on each thread */
	assert_string_equal(f->vms[f->cores[0].vm[0]].name, "web");
	assert_string_equal(f->vms[f->cores[1].vm[0]].name, "db");
	assert_int_equal(row(f, "web")->letter, 'A');
	assert_int_equal(row(f, "db")->letter, 'B');
	assert_int_equal(top_sort_from_key('w'), TOP_SORT_WAIT);
	assert_int_equal(top_sort_from_key('x'), -1);
	assert_int_equal(top_sort_from_name("forced_idle"), TOP_SORT_FORCED_IDLE);
	assert_int_equal(top_sort_from_name("steal"), -1);
	json_object_put(a);
	json_object_put(b);
	free(f);
}

static void test_render(void **state)
{
	struct json_object *a = status_at(1000, 0, 0), *b = status_at(3000, 1, 0), *j;
	struct top_frame *f = malloc(sizeof(*f));
	char text[8192];

	top_frame_build(a, b, 0, TOP_SORT_DELIVERED, f);
	top_frame_render(f, false, 80, text, sizeof(text));
	assert_null(strchr(text, '\033')); /* plain: no escape sequences */
	assert_non_null(strstr(text, "over 2.0 s; sort: delivered"));
	assert_non_null(strstr(text, "   0 [A|A]"));
	assert_non_null(strstr(text, "   2 [B|H]"));
	assert_non_null(strstr(text, "A web "));
	assert_true(strstr(text, "A web ") < strstr(text, "B db "));
	top_frame_render(f, true, 80, text, sizeof(text));
	assert_non_null(strstr(text, "\033[30;42mA\033[0m"));	/* web's colour */
	assert_non_null(strstr(text, "\033[1;37;41mH\033[0m")); /* the host intrusion */
	/* cut short, still a string */
	assert_true(top_frame_render(f, true, 80, text, 50) < 50);
	assert_int_equal(strlen(text), 49);
	j = top_frame_json(f);
	assert_int_equal(jf_len(jf_obj(j, "vms")), 2);
	assert_string_equal(jf_str(jf_at(jf_obj(j, "vms"), 0), "name"), "web");
	assert_int_equal(jf_i64(jf_at(jf_obj(j, "cores"), 1), "core"), 2);
	assert_int_equal(json_object_get_int(jf_at(jf_obj(jf_at(jf_obj(j, "cores"), 1), "vm"), 0)),
			 3);
	assert_int_equal(jf_i64(j, "interval_ms"), 2000);
	json_object_put(j);
	json_object_put(a);
	json_object_put(b);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rates),	cmocka_unit_test(test_enclave_totals),
	    cmocka_unit_test(test_first_frame), cmocka_unit_test(test_sort_keeps_grid),
	    cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
