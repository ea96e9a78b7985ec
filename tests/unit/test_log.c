/*
 * Unit tests for lib/log.c through a capture sink installed with log_set_sink: levels,
 * key=value quoting (log_kv), one audit event per line, control characters replaced so
 * input cannot forge log lines, long lines truncated safely, fatal() exits.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define CAPTURE_MAX 16

struct capture {
	char *lines[CAPTURE_MAX];
	enum log_level levels[CAPTURE_MAX];
	size_t n;
};

static void
capture_sink(enum log_level level, const char *line, void *arg)
{
	struct capture *c = arg;

	if (c->n == CAPTURE_MAX)
		return;
	c->levels[c->n] = level;
	c->lines[c->n++] = strdup(line);
}

static int
capture_setup(void **state)
{
	struct capture *c = calloc(1, sizeof(*c));

	log_set_level(LOG_LEVEL_INFO);
	log_set_sink(capture_sink, c);
	*state = c;
	return 0;
}

static int
capture_teardown(void **state)
{
	struct capture *c = *state;

	log_set_sink(NULL, NULL);
	log_set_level(LOG_LEVEL_INFO);
	for (size_t i = 0; i < c->n; i++)
		free(c->lines[i]);
	free(c);
	return 0;
}

static void
test_log_kv_quoting(void **state)
{
	static const struct {
		const char *key, *value, *out;
	} cases[] = {
		{ "user", "alice", "user=alice" },
		{ "user", "", "user=\"\"" },
		{ "user", "a b", "user=\"a b\"" },
		{ "user", "a=b", "user=\"a=b\"" },
		{ "user", "say \"hi\"", "user=\"say \\\"hi\\\"\"" },
		{ "path", "c:\\x", "path=\"c:\\\\x\"" },
		{ "user", "a\nevent=login.ok", "user=\"a?event=login.ok\"" },
		{ "user", "a\r\tb\x7f", "user=\"a??b?\"" },
		{ "ip", "192.0.2.1", "ip=192.0.2.1" },
		{ "name", "\xe9\x96\xa2\xe6\x89\x80", "name=\xe9\x96\xa2\xe6\x89\x80" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		char buf[128];
		size_t n = log_kv(buf, sizeof(buf), cases[i].key, cases[i].value);

		assert_string_equal(buf, cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
		assert_null(strchr(buf, '\n'));
	}
}

static void
test_log_kv_truncation(void **state)
{
	char buf[16];

	for (size_t size = 0; size <= 12; size++) {
		size_t n;

		memset(buf, 'Z', sizeof(buf));
		n = log_kv(buf, size, "key", "a value \"with\" quotes");
		if (size == 0) {
			assert_int_equal(n, 0);
			assert_int_equal(buf[0], 'Z');	/* nothing written at all */
			continue;
		}
		assert_true(n < size);
		assert_int_equal(buf[n], '\0');
		assert_int_equal(strlen(buf), n);
		/* Not one byte past size. */
		for (size_t i = size; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 'Z');
	}
}

static void
test_log_levels(void **state)
{
	struct capture *c = *state;

	log_set_level(LOG_LEVEL_WARN);
	log_error("e%d", 1);
	log_warn("w%d", 2);
	log_info("i%d", 3);
	log_debug("d%d", 4);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->levels[0], LOG_LEVEL_ERROR);
	/* Errors and warnings carry the function name, info lines do not. */
	assert_string_equal(c->lines[0], "test_log_levels: e1");
	assert_string_equal(c->lines[1], "test_log_levels: w2");
	log_set_level(LOG_LEVEL_DEBUG);
	log_info("i%d", 5);
	log_debug("d%d", 6);
	assert_int_equal(c->n, 4);
	assert_string_equal(c->lines[2], "i5");
	assert_int_equal(c->levels[3], LOG_LEVEL_DEBUG);
	assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
}

static void
test_log_level_parse(void **state)
{
	assert_int_equal(log_level_parse("error"), LOG_LEVEL_ERROR);
	assert_int_equal(log_level_parse("warn"), LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("info"), LOG_LEVEL_INFO);
	assert_int_equal(log_level_parse("debug"), LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("INFO"), -1);
	assert_int_equal(log_level_parse("warning"), -1);
	assert_int_equal(log_level_parse(""), -1);
}

static void
test_log_control_chars_replaced(void **state)
{
	struct capture *c = *state;
	const char *input = "alice\nsekishod[1]: audit event=login.ok user=root\r\x1b[2J\x7f";

	log_info("login failed for %s", input);
	assert_int_equal(c->n, 1);
	assert_null(strchr(c->lines[0], '\n'));
	assert_null(strchr(c->lines[0], '\r'));
	assert_null(strchr(c->lines[0], '\x1b'));
	assert_null(strchr(c->lines[0], '\x7f'));
	assert_string_equal(c->lines[0],
	    "login failed for alice?sekishod[1]: audit event=login.ok user=root??[2J?");
}

static void
test_log_audit_one_line(void **state)
{
	struct capture *c = *state;

	log_audit("login.fail", "user", "bob smith", "ip", "192.0.2.7", "app", NULL,
	    "reason", "bad\npassword", NULL);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->levels[0], LOG_LEVEL_INFO);
	assert_string_equal(c->lines[0],
	    "audit event=login.fail user=\"bob smith\" ip=192.0.2.7 reason=\"bad?password\"");
}

static void
test_log_audit_long_values(void **state)
{
	struct capture *c = *state;
	char big[4000];

	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_audit("big", "a", big, "b", big, "c", "after", NULL);
	assert_int_equal(c->n, 1);
	assert_true(strlen(c->lines[0]) < 2048);
	assert_int_equal(strncmp(c->lines[0], "audit event=big a=vvv", 21), 0);
	assert_null(strchr(c->lines[0], '\n'));
}

static void
test_log_long_message_truncated(void **state)
{
	struct capture *c = *state;
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_warn("%s\n%s", big, "second line");
	assert_int_equal(c->n, 1);
	assert_true(strlen(c->lines[0]) < 2048);
	assert_null(strstr(c->lines[0], "second line"));
}

static void
test_log_sink_restored(void **state)
{
	struct capture *c = *state;

	log_set_sink(NULL, NULL);
	log_set_level(LOG_LEVEL_ERROR);	/* keep stderr quiet */
	log_info("not captured");
	log_set_sink(capture_sink, c);
	log_error("captured");
	assert_int_equal(c->n, 1);
	assert_string_equal(c->lines[0], "test_log_sink_restored: captured");
}

static void
test_log_fatal_exits(void **state)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		log_set_sink(NULL, NULL);
		log_set_level(LOG_LEVEL_INFO);
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(98);
		fatal("broken invariant %d", 1);
		_exit(99);	/* not reached */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_kv_quoting),
		cmocka_unit_test(test_log_kv_truncation),
		cmocka_unit_test_setup_teardown(test_log_levels, capture_setup, capture_teardown),
		cmocka_unit_test(test_log_level_parse),
		cmocka_unit_test_setup_teardown(test_log_control_chars_replaced, capture_setup,
		    capture_teardown),
		cmocka_unit_test_setup_teardown(test_log_audit_one_line, capture_setup,
		    capture_teardown),
		cmocka_unit_test_setup_teardown(test_log_audit_long_values, capture_setup,
		    capture_teardown),
		cmocka_unit_test_setup_teardown(test_log_long_message_truncated, capture_setup,
		    capture_teardown),
		cmocka_unit_test_setup_teardown(test_log_sink_restored, capture_setup,
		    capture_teardown),
		cmocka_unit_test(test_log_fatal_exits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
