/*
 * Unit tests for lib/conf.c: table-driven settings.  conf_set parses each type (int with
 * bounds, sizes, durations, bools, strings); conf_load reads a temporary file and reports
 * every problem as "file:line: message" (unknown keys, missing values, bad values, long lines).
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
#include "conf.h"
#include "xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct cfg {
	char *name;
	int64_t count;
	int64_t any;
	int64_t timeout;
	int64_t size;
	int flag;
};

static const struct conf_entry table[] = {
	{ "name", CONF_STRING, offsetof(struct cfg, name), "default", 0, 0 },
	{ "count", CONF_INT, offsetof(struct cfg, count), "5", 1, 100 },
	{ "any", CONF_INT, offsetof(struct cfg, any), NULL, 0, 0 },
	{ "timeout", CONF_DURATION, offsetof(struct cfg, timeout), "30s", 0, 0 },
	{ "size", CONF_SIZE, offsetof(struct cfg, size), "64k", 0, 0 },
	{ "flag", CONF_BOOL, offsetof(struct cfg, flag), "no", 0, 0 },
	{ NULL, CONF_STRING, 0, NULL, 0, 0 }
};

struct other {
	char *extra;
};

static const struct conf_entry other_table[] = {
	{ "extra", CONF_STRING, offsetof(struct other, extra), NULL, 0, 0 },
	{ NULL, CONF_STRING, 0, NULL, 0, 0 }
};

struct tmpfile {
	char dir[256];
	char path[300];
};

static void
write_file(struct tmpfile *tf, const char *text)
{
	const char *tmp = getenv("TMPDIR");
	FILE *fp;

	snprintf(tf->dir, sizeof(tf->dir), "%s/sekisho-conf.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(tf->dir));
	snprintf(tf->path, sizeof(tf->path), "%s/test.conf", tf->dir);
	assert_non_null(fp = fopen(tf->path, "w"));
	fputs(text, fp);
	fclose(fp);
}

static void
remove_file(struct tmpfile *tf)
{
	unlink(tf->path);
	rmdir(tf->dir);
}

static void
test_conf_defaults(void **state)
{
	struct cfg c = { 0 };

	conf_defaults(table, &c);
	assert_string_equal(c.name, "default");
	assert_int_equal(c.count, 5);
	assert_int_equal(c.any, 0);
	assert_int_equal(c.timeout, 30);
	assert_int_equal(c.size, 65536);
	assert_int_equal(c.flag, 0);
	conf_free(table, &c);
	assert_null(c.name);
}

static void
test_conf_set_int(void **state)
{
	static const struct {
		const char *key, *value;
		int rc;
		int64_t want;
	} cases[] = {
		{ "count", "1", 0, 1 },
		{ "count", "100", 0, 100 },
		{ "count", "42", 0, 42 },
		{ "count", "0", -1, 0 },
		{ "count", "101", -1, 0 },
		{ "count", "-1", -1, 0 },
		{ "count", "", -1, 0 },
		{ "count", "12abc", -1, 0 },
		{ "count", "1.5", -1, 0 },
		{ "count", "0x10", -1, 0 },
		{ "count", "99999999999999999999", -1, 0 },
		{ "any", "-9223372036854775808", 0, INT64_MIN },
		{ "any", "9223372036854775807", 0, INT64_MAX },
		{ "any", "9223372036854775808", -1, 0 },
		{ "any", "0", 0, 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct cfg c = { 0 };
		struct buf err;
		int64_t *field = strcmp(cases[i].key, "count") ? &c.any : &c.count;

		*field = 12345;
		buf_init(&err, 0);
		assert_int_equal(conf_set(table, &c, cases[i].key, cases[i].value, &err),
		    cases[i].rc);
		if (cases[i].rc == 0) {
			assert_true(*field == cases[i].want);
			assert_int_equal(err.len, 0);
		} else {
			/* A refused value leaves the setting alone and names the key. */
			assert_int_equal(*field, 12345);
			assert_non_null(strstr(err.data, cases[i].key));
		}
		buf_free(&err);
	}
}

static void
test_conf_set_size(void **state)
{
	static const struct {
		const char *value;
		int rc;
		int64_t want;
	} cases[] = {
		{ "0", 0, 0 },
		{ "512", 0, 512 },
		{ "64k", 0, 65536 },
		{ "64K", 0, 65536 },
		{ "16m", 0, 16 * 1048576LL },
		{ "16M", 0, 16 * 1048576LL },
		{ "1g", 0, 1073741824LL },
		{ "8589934591g", 0, 8589934591LL * 1073741824LL },
		{ "8589934592g", -1, 0 },	/* 2^63: overflows int64 */
		{ "64kb", -1, 0 },
		{ "64 k", -1, 0 },
		{ "k", -1, 0 },
		{ "-1", -1, 0 },
		{ "-1k", -1, 0 },
		{ "1t", -1, 0 },
		{ "", -1, 0 },
		{ "1.5m", -1, 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct cfg c = { 0 };
		struct buf err;
		int rc;

		buf_init(&err, 0);
		rc = conf_set(table, &c, "size", cases[i].value, &err);
		if (rc != cases[i].rc)
			print_error("size \"%s\": rc %d\n", cases[i].value, rc);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0)
			assert_true(c.size == cases[i].want);
		else
			assert_non_null(strstr(err.data, "invalid size"));
		buf_free(&err);
	}
}

static void
test_conf_set_duration(void **state)
{
	static const struct {
		const char *value;
		int rc;
		int64_t want;
	} cases[] = {
		{ "90", 0, 90 },
		{ "30s", 0, 30 },
		{ "15m", 0, 900 },
		{ "8h", 0, 28800 },
		{ "30d", 0, 2592000 },
		{ "0", 0, 0 },
		{ "1w", -1, 0 },
		{ "30S", -1, 0 },
		{ "15mm", -1, 0 },
		{ "m", -1, 0 },
		{ "-5s", -1, 0 },
		{ " 5s", -1, 0 },
		{ "", -1, 0 },
		{ "106751991167300d", 0, 106751991167300LL * 86400 },
		{ "106751991167301d", -1, 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct cfg c = { 0 };
		struct buf err;
		int rc;

		buf_init(&err, 0);
		rc = conf_set(table, &c, "timeout", cases[i].value, &err);
		if (rc != cases[i].rc)
			print_error("duration \"%s\": rc %d\n", cases[i].value, rc);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0)
			assert_true(c.timeout == cases[i].want);
		else
			assert_non_null(strstr(err.data, "invalid duration"));
		buf_free(&err);
	}
}

static void
test_conf_set_bool(void **state)
{
	static const struct {
		const char *value;
		int rc, want;
	} cases[] = {
		{ "yes", 0, 1 }, { "on", 0, 1 }, { "true", 0, 1 },
		{ "no", 0, 0 }, { "off", 0, 0 }, { "false", 0, 0 },
		{ "YES", -1, 0 }, { "1", -1, 0 }, { "0", -1, 0 }, { "y", -1, 0 }, { "", -1, 0 },
		{ "yes ", -1, 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct cfg c = { .flag = 7 };
		struct buf err;

		buf_init(&err, 0);
		assert_int_equal(conf_set(table, &c, "flag", cases[i].value, &err), cases[i].rc);
		if (cases[i].rc == 0) {
			assert_int_equal(c.flag, cases[i].want);
		} else {
			assert_int_equal(c.flag, 7);
			assert_non_null(strstr(err.data, "expected yes or no"));
		}
		buf_free(&err);
	}
}

static void
test_conf_set_string_and_unknown(void **state)
{
	struct cfg c = { 0 };
	struct buf err;

	buf_init(&err, 0);
	assert_int_equal(conf_set(table, &c, "name", "first", &err), 0);
	assert_int_equal(conf_set(table, &c, "name", "second value", &err), 0);
	assert_string_equal(c.name, "second value");
	assert_int_equal(conf_set(table, &c, "nmae", "x", &err), 1);
	assert_int_equal(conf_set(table, &c, "Name", "x", &err), 1);
	assert_int_equal(conf_set(table, &c, "", "x", &err), 1);
	assert_int_equal(err.len, 0);
	conf_free(table, &c);
	buf_free(&err);
}

static void
test_conf_load_ok(void **state)
{
	static const char text[] =
	    "# comment\n"
	    "\n"
	    "   # indented comment\n"
	    "name   \"quoted value\"  \n"
	    "count\t7\n"
	    "timeout 15m\r\n"
	    "size 16m\n"
	    "flag yes\n"
	    "extra spaced words inside\n"
	    "  any   -3";
	const struct conf_entry *const tables[] = { table, other_table, NULL };
	struct cfg c = { 0 };
	struct other o = { 0 };
	void *const objs[] = { &c, &o, NULL };
	struct tmpfile tf;
	struct buf err;

	write_file(&tf, text);
	conf_defaults(table, &c);
	buf_init(&err, 0);
	assert_int_equal(conf_load(tf.path, tables, objs, &err), 0);
	assert_int_equal(err.len, 0);
	assert_string_equal(c.name, "quoted value");
	assert_int_equal(c.count, 7);
	assert_int_equal(c.timeout, 900);
	assert_int_equal(c.size, 16 * 1048576);
	assert_int_equal(c.flag, 1);
	assert_int_equal(c.any, -3);
	assert_string_equal(o.extra, "spaced words inside");
	conf_free(table, &c);
	conf_free(other_table, &o);
	buf_free(&err);
	remove_file(&tf);
}

static void
test_conf_load_errors(void **state)
{
	static const char text[] =
	    "name ok\n"			/* 1 */
	    "bogus 1\n"			/* 2 */
	    "count\n"			/* 3 */
	    "count 1000\n"		/* 4 */
	    "timeout 5x\n"		/* 5 */
	    "# fine\n"			/* 6 */
	    "flag maybe\n"		/* 7 */
	    "size 12q\n"		/* 8 */
	    "count \"\"\n"		/* 9 */
	    "count 9\n";		/* 10 */
	static const char *const want[] = {
		":2: unknown setting \"bogus\"\n",
		":3: count: missing value\n",
		":4: count: 1000 is out of range (1 to 100)\n",
		":5: timeout: invalid duration \"5x\"\n",
		":7: flag: expected yes or no, not \"maybe\"\n",
		":8: size: invalid size \"12q\"\n",
		":9: count: missing value\n",
	};
	const struct conf_entry *const tables[] = { table, NULL };
	struct cfg c = { 0 };
	void *const objs[] = { &c, NULL };
	struct tmpfile tf;
	struct buf err, line;
	size_t lines = 0;

	write_file(&tf, text);
	buf_init(&err, 0);
	assert_int_equal(conf_load(tf.path, tables, objs, &err), -1);
	/* Every error is reported (not only the first), each as "path:line: message". */
	for (size_t i = 0; i < NELEM(want); i++) {
		buf_init(&line, 0);
		buf_printf(&line, "%s%s", tf.path, want[i]);
		if (strstr(err.data, line.data) == NULL)
			print_error("missing \"%s\" in:\n%s", line.data, err.data);
		assert_non_null(strstr(err.data, line.data));
		buf_free(&line);
	}
	for (const char *p = err.data; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, NELEM(want));
	/* Good lines around the bad ones still apply. */
	assert_string_equal(c.name, "ok");
	assert_int_equal(c.count, 9);
	conf_free(table, &c);
	buf_free(&err);
	remove_file(&tf);
}

static void
test_conf_load_long_line(void **state)
{
	const struct conf_entry *const tables[] = { table, NULL };
	struct cfg c = { 0 };
	void *const objs[] = { &c, NULL };
	struct tmpfile tf;
	struct buf text, err, want;

	buf_init(&text, 0);
	buf_puts(&text, "name short\nname ");
	for (int i = 0; i < 5000; i++)
		buf_putc(&text, 'x');
	buf_puts(&text, "\ncount 3\n");
	write_file(&tf, text.data);
	buf_init(&err, 0);
	buf_init(&want, 0);
	buf_printf(&want, "%s:2: line too long\n", tf.path);
	assert_int_equal(conf_load(tf.path, tables, objs, &err), -1);
	assert_string_equal(err.data, want.data);
	/* The over-long value was not applied in pieces. */
	assert_string_equal(c.name, "short");
	conf_free(table, &c);
	buf_free(&err);
	buf_free(&want);
	buf_free(&text);
	remove_file(&tf);
}

static void
test_conf_load_missing_file(void **state)
{
	const struct conf_entry *const tables[] = { table, NULL };
	struct cfg c = { 0 };
	void *const objs[] = { &c, NULL };
	struct tmpfile tf;
	struct buf err;
	char path[400];

	write_file(&tf, "");
	snprintf(path, sizeof(path), "%s/absent.conf", tf.dir);
	buf_init(&err, 0);
	assert_int_equal(conf_load(path, tables, objs, &err), -1);
	assert_non_null(strstr(err.data, path));
	assert_non_null(strstr(err.data, "No such file"));
	buf_free(&err);
	/* An empty file is fine. */
	buf_init(&err, 0);
	assert_int_equal(conf_load(tf.path, tables, objs, &err), 0);
	buf_free(&err);
	remove_file(&tf);
}

static void
test_conf_load_quotes(void **state)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
		{ "name \"a b\"\n", "a b" },
		{ "name \"\"x\"\"\n", "\"x\"" },	/* only the outer pair goes */
		{ "name \"unbalanced\n", "\"unbalanced" },
		{ "name \"\n", "\"" },
		{ "name a \"b\"\n", "a \"b\"" },
		{ "name plain # not a comment\n", "plain # not a comment" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct conf_entry *const tables[] = { table, NULL };
		struct cfg c = { 0 };
		void *const objs[] = { &c, NULL };
		struct tmpfile tf;
		struct buf err;

		write_file(&tf, cases[i].line);
		buf_init(&err, 0);
		assert_int_equal(conf_load(tf.path, tables, objs, &err), 0);
		assert_string_equal(c.name, cases[i].want);
		conf_free(table, &c);
		buf_free(&err);
		remove_file(&tf);
	}
}

static void
test_conf_key_line(void **state)
{
	static const char text[] =
	    "# listen 127.0.0.1:1\n"	/* 1: a comment, not a setting */
	    "name a\n"			/* 2 */
	    "  listen *:443\n"		/* 3 */
	    "listener x\n"		/* 4: another key */
	    "listen  [::]:8443\n"	/* 5: the one that takes effect */
	    "count 1\n";		/* 6 */
	struct tmpfile tf;

	write_file(&tf, text);
	assert_int_equal(conf_key_line(tf.path, "listen"), 5);
	assert_int_equal(conf_key_line(tf.path, "name"), 2);
	assert_int_equal(conf_key_line(tf.path, "count"), 6);
	assert_int_equal(conf_key_line(tf.path, "user"), 0);
	assert_int_equal(conf_key_line(tf.path, "list"), 0);
	remove_file(&tf);
	assert_int_equal(conf_key_line(tf.path, "listen"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_set_int),
		cmocka_unit_test(test_conf_set_size),
		cmocka_unit_test(test_conf_set_duration),
		cmocka_unit_test(test_conf_set_bool),
		cmocka_unit_test(test_conf_set_string_and_unknown),
		cmocka_unit_test(test_conf_load_ok),
		cmocka_unit_test(test_conf_load_errors),
		cmocka_unit_test(test_conf_load_long_line),
		cmocka_unit_test(test_conf_load_missing_file),
		cmocka_unit_test(test_conf_load_quotes),
		cmocka_unit_test(test_conf_key_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
