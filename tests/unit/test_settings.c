/*
 * Unit tests for idp/settings.c: loading DIR/sekishod.conf from a temporary directory.
 * Defaults apply, url is required and must be https (a trailing slash is dropped), bad
 * values are reported as "file:line: message", and cross-setting checks hold.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "settings.h"
#include "xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct tmpdir {
	char dir[256];
	char path[300];
};

static void
write_conf(struct tmpdir *td, const char *text)
{
	const char *tmp = getenv("TMPDIR");
	FILE *fp;

	snprintf(td->dir, sizeof(td->dir), "%s/sekisho-settings.XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(td->dir));
	snprintf(td->path, sizeof(td->path), "%s/sekishod.conf", td->dir);
	if (text) {
		assert_non_null(fp = fopen(td->path, "w"));
		fputs(text, fp);
		fclose(fp);
	}
}

static void
remove_conf(struct tmpdir *td)
{
	unlink(td->path);
	rmdir(td->dir);
}

/* Load text as sekishod.conf; the settings and the error text are returned. */
static int
load(const char *text, struct settings *s, struct buf *err, struct tmpdir *td)
{
	int rc;

	write_conf(td, text);
	buf_init(err, 0);
	rc = settings_load(td->dir, s, err);
	return rc;
}

static void
test_settings_defaults(void **state)
{
	struct tmpdir td;
	struct settings s;
	struct buf err;
	char *want;

	assert_int_equal(load("url https://idp.example.org\n", &s, &err, &td), 0);
	assert_int_equal(err.len, 0);
	assert_string_equal(s.url, "https://idp.example.org");
	assert_null(s.listen);
	assert_int_equal(s.tls, 1);
	assert_string_equal(s.log_level, "info");
	assert_int_equal(s.threads, 0);
	assert_int_equal(s.max_connections, 1024);
	assert_int_equal(s.connection_timeout, 30);
	assert_int_equal(s.connection_memory, 32 * 1024);
	assert_int_equal(s.max_body, 256 * 1024);
	assert_int_equal(s.map_size, 64 * 1024 * 1024);
	assert_true(s.map_size_max == 16LL * 1024 * 1024 * 1024);
	assert_int_equal(s.session_idle_timeout, 2 * 3600);
	assert_int_equal(s.session_max_lifetime, 12 * 3600);
	assert_int_equal(s.argon2_t_cost, 2);
	assert_int_equal(s.argon2_m_cost, 19 * 1024 * 1024);
	assert_int_equal(s.login_failure_window, 900);
	assert_int_equal(s.saml_assertion_lifetime, 300);
	assert_int_equal(s.saml_clock_skew, 180);
	assert_int_equal(s.saml_max_message, 256 * 1024);
	assert_int_equal(s.pending_login_lifetime, 900);
	assert_int_equal(s.audit_retention, 396 * 86400);
	assert_null(s.templates_dir);
	/* TLS files default into the directory. */
	want = xasprintf("%s/tls/server.crt", td.dir);
	assert_string_equal(s.tls_cert, want);
	free(want);
	want = xasprintf("%s/tls/server.key", td.dir);
	assert_string_equal(s.tls_key, want);
	free(want);
	settings_free(&s);
	buf_free(&err);
	remove_conf(&td);
}

static void
test_settings_values(void **state)
{
	static const char text[] =
	    "# a full file\n"
	    "url https://idp.example.org:8443/\n"
	    "listen 127.0.0.1:8443\n"
	    "tls off\n"
	    "tls_cert certs/x.crt\n"
	    "log_level debug\n"
	    "threads 4\n"
	    "max_body 1m\n"
	    "session_idle_timeout 30m\n"
	    "saml_clock_skew 0\n"
	    "map_size 1m\n"
	    "map_size_max 1m\n"
	    "templates_dir \"my templates\"\n";
	struct tmpdir td;
	struct settings s;
	struct buf err;

	assert_int_equal(load(text, &s, &err, &td), 0);
	assert_string_equal(s.url, "https://idp.example.org:8443");
	assert_string_equal(s.listen, "127.0.0.1:8443");
	assert_int_equal(s.tls, 0);
	assert_string_equal(s.tls_cert, "certs/x.crt");
	assert_string_equal(s.log_level, "debug");
	assert_int_equal(s.threads, 4);
	assert_int_equal(s.max_body, 1048576);
	assert_int_equal(s.session_idle_timeout, 1800);
	assert_int_equal(s.saml_clock_skew, 0);
	assert_int_equal(s.map_size, s.map_size_max);
	assert_string_equal(s.templates_dir, "my templates");
	settings_free(&s);
	buf_free(&err);
	remove_conf(&td);
}

static void
test_settings_url_rules(void **state)
{
	static const struct {
		const char *text;
		const char *err;	/* NULL: accepted */
	} cases[] = {
		{ "", "url is required" },
		{ "# nothing\n", "url is required" },
		{ "url http://idp.example.org\n", "url must be https://HOST[:PORT] without a path" },
		{ "url HTTPS://idp.example.org\n", "url must be https://HOST[:PORT] without a path" },
		{ "url idp.example.org\n", "url must be https://HOST[:PORT] without a path" },
		{ "url https:/idp.example.org\n", "url must be https://HOST[:PORT] without a path" },
		{ "url ftp://idp.example.org\n", "url must be https://HOST[:PORT] without a path" },
		{ "url https://idp.example.org\n", NULL },
		{ "url https://idp.example.org/\n", NULL },
		{ "url https://idp.example.org/base/\n", "url must be https://HOST[:PORT] without a path" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct tmpdir td;
		struct settings s;
		struct buf err;
		int rc = load(cases[i].text, &s, &err, &td);

		if (cases[i].err) {
			char *want = xasprintf("%s: %s\n", td.path, cases[i].err);

			assert_int_equal(rc, -1);
			assert_string_equal(err.data, want);
			free(want);
		} else {
			assert_int_equal(rc, 0);
			assert_int_not_equal(s.url[strlen(s.url) - 1], '/');
		}
		settings_free(&s);
		buf_free(&err);
		remove_conf(&td);
	}
}

/*
 * Regression test (fixed in idp/settings.c, settings_load): "url https://" (no host) is accepted and the
 * trailing-slash rule turns it into "https:/".  A URL without a host should be refused.
 */
static void
test_settings_url_without_host(void **state)
{
	static const char *const bad[] = { "url https://\n", "url https:///\n", "url https:///x\n" };

	for (size_t i = 0; i < NELEM(bad); i++) {
		struct tmpdir td;
		struct settings s;
		struct buf err;
		int rc = load(bad[i], &s, &err, &td);

		if (rc == 0)
			print_error("\"%s\" accepted as url \"%s\"\n", bad[i], s.url);
		settings_free(&s);
		buf_free(&err);
		remove_conf(&td);
		assert_int_equal(rc, -1);
	}
}

static void
test_settings_bad_values(void **state)
{
	static const struct {
		const char *line, *err;
	} cases[] = {
		{ "threads 257", "threads: 257 is out of range (0 to 256)" },
		{ "threads -1", "threads: -1 is out of range (0 to 256)" },
		{ "threads many", "threads: invalid number \"many\"" },
		{ "max_connections 0", "max_connections: 0 is out of range (1 to 65536)" },
		{ "connection_timeout 2h", "connection_timeout: 2h is out of range (1 to 3600)" },
		{ "connection_timeout 5x", "connection_timeout: invalid duration \"5x\"" },
		{ "max_body 1k", "max_body: 1k is out of range (4096 to 16777216)" },
		{ "max_body 17m", "max_body: 17m is out of range (4096 to 16777216)" },
		{ "max_body lots", "max_body: invalid size \"lots\"" },
		{ "saml_assertion_lifetime 10m",
		    "saml_assertion_lifetime: 10m is out of range (30 to 300)" },
		{ "saml_clock_skew 11m", "saml_clock_skew: 11m is out of range (0 to 600)" },
		{ "tls maybe", "tls: expected yes or no, not \"maybe\"" },
		{ "no_such_key 1", "unknown setting \"no_such_key\"" },
		{ "threads", "threads: missing value" },
		{ "argon2_m_cost 4k", "argon2_m_cost: 4k is out of range (8192 to 4294967296)" },
		{ "backup_keep 0", "backup_keep: 0 is out of range (1 to 1000)" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct tmpdir td;
		struct settings s;
		struct buf err;
		char *text = xasprintf("url https://idp.example.org\n# two\n%s\n", cases[i].line);
		char *want;
		int rc = load(text, &s, &err, &td);

		want = xasprintf("%s:3: %s\n", td.path, cases[i].err);
		if (rc != -1 || strcmp(err.data ? err.data : "", want))
			print_error("got \"%s\", want \"%s\"\n", err.data ? err.data : "", want);
		assert_int_equal(rc, -1);
		assert_string_equal(err.data, want);
		free(want);
		free(text);
		settings_free(&s);
		buf_free(&err);
		remove_conf(&td);
	}
}

static void
test_settings_cross_checks(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "url https://idp.example.org\nmap_size 2m\nmap_size_max 1m\n",
		    "map_size is larger than map_size_max" },
		{ "url https://idp.example.org\nlog_level verbose\n",
		    "log_level must be error, warn, info or debug" },
		{ "url https://idp.example.org\nlog_level INFO\n",
		    "log_level must be error, warn, info or debug" },
		{ "url https://idp.example.org\nbackup_time 3:30\n",
		    "backup_time must be HH:MM, such as 03:30" },
		{ "url https://idp.example.org\nbackup_time 24:00\n",
		    "backup_time must be HH:MM, such as 03:30" },
		{ "url https://idp.example.org\nbackup_time 03:60\n",
		    "backup_time must be HH:MM, such as 03:30" },
		{ "url https://idp.example.org\nbackup_time 0a:30\n",
		    "backup_time must be HH:MM, such as 03:30" },
		{ "url https://idp.example.org\naudit_syslog_facility kern\n",
		    "audit_syslog_facility must be user, daemon, auth, authpriv or local0 to local7" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct tmpdir td;
		struct settings s;
		struct buf err;
		int rc = load(cases[i].text, &s, &err, &td);
		char *want = xasprintf("%s: %s\n", td.path, cases[i].err);

		assert_int_equal(rc, -1);
		assert_string_equal(err.data, want);
		free(want);
		settings_free(&s);
		buf_free(&err);
		remove_conf(&td);
	}
}

static void
test_settings_missing_file(void **state)
{
	struct tmpdir td;
	struct settings s;
	struct buf err;

	write_conf(&td, NULL);
	buf_init(&err, 0);
	assert_int_equal(settings_load(td.dir, &s, &err), -1);
	assert_non_null(strstr(err.data, td.path));
	settings_free(&s);
	buf_free(&err);
	remove_conf(&td);
}

static void
test_settings_keys(void **state)
{
	const char *const *keys = settings_keys();
	size_t n = 0;

	for (; keys[n]; n++)
		for (size_t j = 0; j < n; j++)
			assert_string_not_equal(keys[n], keys[j]);
	assert_true(n >= 30);
	assert_string_equal(keys[0], "url");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings_defaults),
		cmocka_unit_test(test_settings_values),
		cmocka_unit_test(test_settings_url_rules),
		cmocka_unit_test(test_settings_url_without_host),
		cmocka_unit_test(test_settings_bad_values),
		cmocka_unit_test(test_settings_cross_checks),
		cmocka_unit_test(test_settings_missing_file),
		cmocka_unit_test(test_settings_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
