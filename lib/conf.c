/*
 * Generic, table-driven configuration parsing.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conf.h"
#include "xmalloc.h"

#define CONF_MAX_LINE 4096

static int
parse_int(const char *s, int64_t *v_r)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -1;
	*v_r = v;
	return 0;
}

static int
parse_size(const char *s, int64_t *v_r)
{
	char *end;
	long long v;
	int64_t mult = 1;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'k': mult = 1024; break;
	case 'm': mult = 1024 * 1024; break;
	case 'g': mult = 1024LL * 1024 * 1024; break;
	default: return -1;
	}
	if (*end && end[1])
		return -1;
	if (v > INT64_MAX / mult)
		return -1;
	*v_r = v * mult;
	return 0;
}

static int
parse_bool(const char *s, int *v_r)
{
	if (!strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "true")) {
		*v_r = 1;
		return 0;
	}
	if (!strcmp(s, "no") || !strcmp(s, "off") || !strcmp(s, "false")) {
		*v_r = 0;
		return 0;
	}
	return -1;
}

static int
apply(const struct conf_entry *e, void *settings, const char *value, struct buf *err)
{
	char *base = settings;
	int64_t v = 0;
	int rc = 0, b;

	switch (e->type) {
	case CONF_STRING: {
		char **sp = (char **)(base + e->offset);
		free(*sp);
		*sp = xstrdup(value);
		return 0;
	}
	case CONF_BOOL:
		if (parse_bool(value, &b) == -1) {
			buf_printf(err, "%s: expected yes or no, not \"%s\"", e->key, value);
			return -1;
		}
		*(int *)(base + e->offset) = b;
		return 0;
	case CONF_INT: rc = parse_int(value, &v); break;
	case CONF_DURATION: rc = clock_parse_duration(value, &v); break;
	case CONF_SIZE: rc = parse_size(value, &v); break;
	}
	if (rc == -1) {
		buf_printf(err, "%s: invalid %s \"%s\"", e->key,
		    e->type == CONF_INT ? "number" : e->type == CONF_SIZE ? "size" : "duration",
		    value);
		return -1;
	}
	if ((e->min || e->max) && (v < e->min || v > e->max)) {
		buf_printf(err, "%s: %s is out of range (%lld to %lld)", e->key, value,
		    (long long)e->min, (long long)e->max);
		return -1;
	}
	*(int64_t *)(base + e->offset) = v;
	return 0;
}

void
conf_defaults(const struct conf_entry *table, void *settings)
{
	struct buf err;

	buf_init(&err, 0);
	for (const struct conf_entry *e = table; e->key; e++) {
		if (e->def && apply(e, settings, e->def, &err) == -1)
			abort();	/* a bad default is a programming error */
	}
	buf_free(&err);
}

int
conf_set(const struct conf_entry *table, void *settings, const char *key, const char *value,
    struct buf *err)
{
	for (const struct conf_entry *e = table; e->key; e++)
		if (strcmp(e->key, key) == 0)
			return apply(e, settings, value, err);
	return 1;
}

void
conf_free(const struct conf_entry *table, void *settings)
{
	for (const struct conf_entry *e = table; e->key; e++)
		if (e->type == CONF_STRING) {
			char **sp = (char **)((char *)settings + e->offset);
			free(*sp);
			*sp = NULL;
		}
}

/* Split "key value" in place; strips a pair of double quotes around the value. */
static int
split(char *line, char **key_r, char **value_r)
{
	char *p = line, *v, *end;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	*key_r = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	if (*p)
		*p++ = '\0';
	while (isspace((unsigned char)*p))
		p++;
	v = p;
	end = v + strlen(v);
	while (end > v && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (end - v >= 2 && v[0] == '"' && end[-1] == '"') {
		end[-1] = '\0';
		v++;
	}
	*value_r = v;
	return 1;
}

int
conf_load(const char *path, const struct conf_entry *const tables[], void *const settings[],
    struct buf *err)
{
	char line[CONF_MAX_LINE];
	FILE *fp;
	int lineno = 0, rc = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		buf_printf(err, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *key, *value;
		int found = 0;
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			buf_printf(err, "%s:%d: line too long\n", path, lineno);
			rc = -1;
			break;
		}
		if (!split(line, &key, &value))
			continue;
		if (*value == '\0') {
			buf_printf(err, "%s:%d: %s: missing value\n", path, lineno, key);
			rc = -1;
			continue;
		}
		for (size_t i = 0; tables[i] && !found; i++) {
			struct buf msg;
			int r;
			buf_init(&msg, 512);
			r = conf_set(tables[i], settings[i], key, value, &msg);
			if (r == -1) {
				buf_printf(err, "%s:%d: %s\n", path, lineno, msg.data);
				rc = -1;
			}
			found = r != 1;
			buf_free(&msg);
		}
		if (!found) {
			buf_printf(err, "%s:%d: unknown setting \"%s\"\n", path, lineno, key);
			rc = -1;
		}
	}
	fclose(fp);
	return rc;
}

int
conf_key_line(const char *path, const char *key)
{
	char line[CONF_MAX_LINE];
	FILE *fp = fopen(path, "r");
	int lineno = 0, found = 0;

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp)) {
		char *k, *v;
		lineno++;
		if (split(line, &k, &v) && !strcmp(k, key))
			found = lineno;
	}
	fclose(fp);
	return found;
}
