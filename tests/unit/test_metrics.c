/*
 * Unit tests for idp/metrics.c: audit events become the right labelled counters, label
 * values are escaped for the text format, the series table is capped (a flood of new
 * tenant names lands in tenant="other"), the latency histogram's buckets, and counts
 * from parallel threads all arrive.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static char *
render(void)
{
	struct buf b;

	buf_init(&b, 0);
	metrics_render_counters(&b);
	return buf_steal(&b, NULL);
}

/* 1 when the rendered text has this exact line. */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p += n)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

static void
test_metrics_events(void **state)
{
	static const struct {
		const char *event, *fields, *line;
	} cases[] = {
		{ "login.ok", "user=a ip=1.2.3.4", "sekisho_logins_total{tenant=\"t\"} 1" },
		{ "login.fail", "user=a reason=bad_password",
		  "sekisho_refusals_total{tenant=\"t\",event=\"login.fail\",reason=\"bad_password\"} 1" },
		{ "access.deny", "user=a", "sekisho_refusals_total{tenant=\"t\",event=\"access.deny\",reason=\"\"} 1" },
		{ "saml.sso", "user=a sp=x app=\"my \\\"app\\\"\"",
		  "sekisho_sso_total{tenant=\"t\",protocol=\"saml\",app=\"my \\\"app\\\"\"} 1" },
		{ "oidc.token", "user=a client=c1 grant=authorization_code",
		  "sekisho_sso_total{tenant=\"t\",protocol=\"oidc\",app=\"c1\"} 1" },
		{ "user.add", "user=a", "sekisho_audit_events_total{event=\"user.add\"} 1" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text;
		metrics_reset();
		metrics_audit("t", cases[i].event, cases[i].fields);
		text = render();
		if (!has_line(text, cases[i].line))
			fail_msg("%s: no line %s in\n%s", cases[i].event, cases[i].line, text);
		free(text);
	}
	metrics_reset();
}

static void
test_metrics_label_escape(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	metrics_label(&b, "a\"b\\c\nd");
	assert_string_equal(b.data, "a\\\"b\\\\c\\nd");
	buf_free(&b);
}

static void
test_metrics_cap(void **state)
{
	char name[32], *text;

	(void)state;
	metrics_reset();
	for (int i = 0; i < METRICS_SERIES_MAX + 50; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		metrics_audit(name, "login.ok", "");
	}
	text = render();
	/*
	 * The events family took one series, 4 slots stay for the families' "other": the
	 * logins of t0..t1994 have their own, the 55 after them share one.
	 */
	assert_true(has_line(text, "sekisho_logins_total{tenant=\"t1994\"} 1"));
	assert_false(has_line(text, "sekisho_logins_total{tenant=\"t1995\"} 1"));
	assert_true(has_line(text, "sekisho_logins_total{tenant=\"other\"} 55"));
	free(text);
	metrics_reset();
}

static void
test_metrics_histogram(void **state)
{
	char *text;

	(void)state;
	metrics_reset();
	metrics_request("/t/a/saml/sso", 4000);
	metrics_request("/t/a/saml/sso", 30000);
	metrics_request("/t/a/saml/sso", 20000000);
	metrics_request("/t/a/login", 1);
	text = render();
	assert_true(has_line(text,
	    "sekisho_http_request_duration_seconds_bucket{area=\"saml\",le=\"0.005\"} 1"));
	assert_true(has_line(text,
	    "sekisho_http_request_duration_seconds_bucket{area=\"saml\",le=\"0.025\"} 1"));
	assert_true(has_line(text,
	    "sekisho_http_request_duration_seconds_bucket{area=\"saml\",le=\"0.05\"} 2"));
	assert_true(has_line(text,
	    "sekisho_http_request_duration_seconds_bucket{area=\"saml\",le=\"10\"} 2"));
	assert_true(has_line(text,
	    "sekisho_http_request_duration_seconds_bucket{area=\"saml\",le=\"+Inf\"} 3"));
	assert_true(has_line(text, "sekisho_http_request_duration_seconds_count{area=\"page\"} 1"));
	assert_true(has_line(text,
	    "sekisho_http_request_duration_seconds_sum{area=\"saml\"} 20.034000"));
	free(text);
	metrics_reset();
}

static void *
hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 5000; i++) {
		metrics_audit("t", "login.ok", "");
		metrics_request("/healthz", 10);
	}
	return NULL;
}

static void
test_metrics_threads(void **state)
{
	pthread_t th[8];
	char *text;

	(void)state;
	metrics_reset();
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	text = render();
	assert_true(has_line(text, "sekisho_logins_total{tenant=\"t\"} 40000"));
	assert_true(has_line(text,
	    "sekisho_http_request_duration_seconds_count{area=\"internal\"} 40000"));
	free(text);
	metrics_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_events),
		cmocka_unit_test(test_metrics_label_escape),
		cmocka_unit_test(test_metrics_cap),
		cmocka_unit_test(test_metrics_histogram),
		cmocka_unit_test(test_metrics_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
