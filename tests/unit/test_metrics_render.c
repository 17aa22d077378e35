/*
 * Unit tests: vmm-schedd's Prometheus metrics rendered from a status JSON
 * (lib/metrics_render.c): the values, the labels, and the text's structure
 * (each family's samples right after its HELP and TYPE, no family twice).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "metrics_render.h"

static const char status_text[] =
    "{\"version\": 1, \"ok\": true,"
    " \"scheduler\": {\"abi_version\": 9, \"pairing\": \"strict\", \"core_cookie\": \"clear\","
    "   \"messages\": 120, \"dropped_messages\": 3, \"resyncs\": 1, \"share_plans\": 50,"
    "   \"share_plan_ns\": 2500000, \"core_slice_us\": 4000, \"demanding_vms\": 2,"
    "   \"txn_outcomes\": {\"complete\": 7, \"stale\": 2},"
    "   \"take_wait\": {\"count\": 6, \"sum_us\": 2500, \"hist\": {\"lt_10us\": 1,"
    "     \"lt_100us\": 2, \"lt_1ms\": 2, \"lt_10ms\": 1, \"ge_10ms\": 0}}},"
    " \"planner\": {\"placement\": \"agent\", \"epochs\": 40, \"plan_us\": 1500,"
    "   \"epoch_now_ms\": 40, \"backoffs\": 3,"
    "   \"bpf_threads\": 9, \"outcomes\": {\"complete\": 30, \"wrong_vm\": 4}},"
    " \"discovery\": {\"mode\": \"events\", \"events\": 77, \"overflows\": 1,"
    "   \"rescans\": {\"events\": 12, \"overflow\": 2, \"safety\": 4}, \"rescan_ns\": 1500000},"
    " \"enclave\": {\"cpus\": \"0-3\", \"cores\": 2},"
    " \"cpus\": [{\"cpu\": 0, \"core\": 0, \"vcpu_ns\": 3000000000, \"host_ns\": 1,"
    "   \"idle_ns\": 2, \"forced_idle_ns\": 3, \"host_idle_ns\": 4, \"owner_changes\": 11,"
    "   \"host_evictions\": 5, \"vcpu_runs\": 6, \"stray_runs\": 0},"
    "  {\"cpu\": 1, \"core\": 0}],"
    " \"vms\": [{\"id\": 0, \"name\": \"a\\\"b\\nc\\\\\", \"pid\": 1234, \"run_ns\": 1500000000,"
    "   \"forced_idle_ns\": 250000000, \"core_grants\": 8, \"share_mcores\": 1500,"
    "   \"directed_yields\": 12, \"directed_runs\": 10, \"yields_ignored\": 3,"
    "   \"idle_deferrals\": 4,"
    "   \"vcpus\": [{\"wait_ns\": 100}, {\"wait_ns\": 1000000000}]},"
    "  {\"id\": 1, \"name\": \"idle\", \"pid\": 99, \"run_ns\": 0, \"vcpus\": []}]}";

static char *render(void)
{
	struct json_object *status = json_tokener_parse(status_text);
	struct prom_buf b = {0};

	assert_non_null(status);
	metrics_render_status(status, &b);
	json_object_put(status);
	assert_false(b.failed);
	assert_non_null(b.data);
	return b.data;
}

static void has_line(const char *text, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (!strstr(text, want))
		fail_msg("no line '%s' in:\n%s", line, text);
}

static void vm_counters_with_escaped_name(void **state)
{
	char *t = render();

	has_line(t,
		 "vmm_sched_vm_run_seconds_total{vm=\"a\\\"b\\nc\\\\\",pid=\"1234\"} 1.500000000");
	has_line(t, "vmm_sched_vm_run_seconds_total{vm=\"idle\",pid=\"99\"} 0.000000000");
	has_line(t,
		 "vmm_sched_vm_wait_seconds_total{vm=\"a\\\"b\\nc\\\\\",pid=\"1234\"} 1.000000100");
	has_line(t, "vmm_sched_vm_forced_idle_seconds_total{vm=\"idle\",pid=\"99\"} 0.000000000");
	has_line(t, "vmm_sched_vm_core_grants_total{vm=\"a\\\"b\\nc\\\\\",pid=\"1234\"} 8");
	has_line(t, "vmm_sched_vm_directed_yields_total{vm=\"a\\\"b\\nc\\\\\",pid=\"1234\"} 12");
	has_line(t, "vmm_sched_vm_directed_runs_total{vm=\"a\\\"b\\nc\\\\\",pid=\"1234\"} 10");
	has_line(t, "vmm_sched_vm_yields_ignored_total{vm=\"a\\\"b\\nc\\\\\",pid=\"1234\"} 3");
	has_line(t, "vmm_sched_vm_idle_deferrals_total{vm=\"idle\",pid=\"99\"} 0");
	has_line(t, "vmm_sched_vm_planned_share_cores{vm=\"a\\\"b\\nc\\\\\",pid=\"1234\"} 1.500");
	has_line(t, "vmm_sched_vm_vcpus{vm=\"a\\\"b\\nc\\\\\",pid=\"1234\"} 2");
	has_line(t, "# TYPE vmm_sched_vm_run_seconds_total counter");
	free(t);
}

static void scheduler_and_cpu_counters(void **state)
{
	char *t = render();

	has_line(t, "vmm_sched_build_info{abi_version=\"9\",control_version=\"1\","
		    "pairing=\"strict\",core_cookie=\"clear\"} 1");
	has_line(t, "vmm_sched_agent_messages_total 120");
	has_line(t, "vmm_sched_agent_messages_dropped_total 3");
	has_line(t, "vmm_sched_agent_resyncs_total 1");
	has_line(t, "vmm_sched_agent_messages_stale_total 0");
	has_line(t, "vmm_sched_share_plans_total 50");
	has_line(t, "vmm_sched_share_plan_seconds_total 0.002500000");
	has_line(t, "vmm_sched_core_slice_seconds 0.004000000");
	has_line(t, "vmm_sched_transactions_total{outcome=\"complete\"} 7");
	has_line(t, "vmm_sched_transactions_total{outcome=\"stale\"} 2");
	has_line(t, "vmm_sched_enclave_cores 2");
	has_line(t, "vmm_sched_planner_epochs_total 40");
	has_line(t, "vmm_sched_planner_plan_seconds_total 0.001500000");
	has_line(t, "vmm_sched_planner_bpf_threads_total 9");
	has_line(t, "vmm_sched_planner_epoch_seconds 0.040000000");
	has_line(t, "vmm_sched_planner_backoffs_total 3");
	has_line(t, "vmm_sched_core_take_wait_seconds_bucket{le=\"0.0001\"} 3");
	has_line(t, "vmm_sched_core_take_wait_seconds_bucket{le=\"0.01\"} 6");
	has_line(t, "vmm_sched_core_take_wait_seconds_bucket{le=\"+Inf\"} 6");
	has_line(t, "vmm_sched_core_take_wait_seconds_sum 0.002500000");
	has_line(t, "vmm_sched_core_take_wait_seconds_count 6");
	has_line(t, "vmm_sched_planner_transactions_total{outcome=\"wrong_vm\"} 4");
	has_line(t, "vmm_sched_cpu_seconds_total{cpu=\"0\",core=\"0\",mode=\"vcpu\"} 3.000000000");
	has_line(t, "vmm_sched_cpu_seconds_total{cpu=\"0\",core=\"0\",mode=\"host_idle\"} "
		    "0.000000004");
	has_line(t, "vmm_sched_cpu_seconds_total{cpu=\"1\",core=\"0\",mode=\"idle\"} 0.000000000");
	has_line(t, "vmm_sched_cpu_owner_changes_total{cpu=\"0\",core=\"0\"} 11");
	has_line(t, "vmm_sched_cpu_host_intrusions_total{cpu=\"0\",core=\"0\"} 5");
	free(t);
}

static void discovery_counters(void **state)
{
	char *t = render();

	has_line(t, "vmm_sched_discovery_info{mode=\"events\"} 1");
	has_line(t, "vmm_sched_discovery_events_total 77");
	has_line(t, "vmm_sched_discovery_overflows_total 1");
	has_line(t, "vmm_sched_discovery_rescans_total{cause=\"events\"} 12");
	has_line(t, "vmm_sched_discovery_rescans_total{cause=\"overflow\"} 2");
	has_line(t, "vmm_sched_discovery_rescans_total{cause=\"safety\"} 4");
	has_line(t, "vmm_sched_discovery_rescan_seconds_total 0.001500000");
	free(t);
}

/* Every sample follows its own family's HELP and TYPE; no family appears twice. */
static void families_grouped_once(void **state)
{
	char *t = render(), *save = NULL, family[128] = "", seen[8192] = " ";
	int samples = 0;
	bool histogram = false;

	for (char *line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], key[140];

		if (sscanf(line, "# HELP %127s", name) == 1) {
			snprintf(key, sizeof(key), " %s ", name);
			if (strstr(seen, key))
				fail_msg("family %s appears twice", name);
			strncat(seen, key + 1, sizeof(seen) - strlen(seen) - 1);
			snprintf(family, sizeof(family), "%s", name);
			continue;
		}
		if (sscanf(line, "# TYPE %127s", name) == 1) {
			assert_string_equal(name, family);
			histogram = strstr(line, " histogram") != NULL;
			assert_true(strstr(line, " counter") || strstr(line, " gauge") ||
				    histogram);
			continue;
		}
		assert_true(sscanf(line, "%127[^{ ]", name) == 1);
		if (histogram && !strncmp(name, family, strlen(family)) &&
		    (!strcmp(name + strlen(family), "_bucket") ||
		     !strcmp(name + strlen(family), "_sum") ||
		     !strcmp(name + strlen(family), "_count")))
			name[strlen(family)] = '\0';
		if (strcmp(name, family))
			fail_msg("sample '%s' is outside its family (under %s)", line, family);
		samples++;
	}
	assert_true(samples > 30);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(vm_counters_with_escaped_name),
	    cmocka_unit_test(scheduler_and_cpu_counters),
	    cmocka_unit_test(discovery_counters),
	    cmocka_unit_test(families_grouped_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
