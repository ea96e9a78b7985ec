/*
 * Configuration files: "key value" lines, '#' comments on their own lines.  Each module
 * describes its settings in one table (name, type, offset, default, bounds); parsing is
 * generic and every error names file:line.
 */
#ifndef SEKISHO_CONF_H
#define SEKISHO_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum conf_type {
	CONF_STRING,	/* char *, owned by the settings struct */
	CONF_INT,	/* int64_t */
	CONF_DURATION,	/* int64_t seconds; "30s", "15m", "8h", "30d" */
	CONF_SIZE,	/* int64_t bytes; "512", "64k", "16m", "1g" */
	CONF_BOOL,	/* int; yes/no, on/off, true/false */
};

struct conf_entry {
	const char *key;
	enum conf_type type;
	size_t offset;
	const char *def;	/* default as it would be written in the file; NULL: unset */
	int64_t min, max;	/* bounds for numeric types (0, 0: none) */
};

/* Apply every default of the table to settings. */
void conf_defaults(const struct conf_entry *table, void *settings);
/*
 * Parse one "key value" pair against the table.  0, 1 when the key is not in this table,
 * -1 with a message in err.
 */
int conf_set(const struct conf_entry *table, void *settings, const char *key, const char *value,
    struct buf *err);
/* Release the strings a table owns. */
void conf_free(const struct conf_entry *table, void *settings);

/*
 * Read path and hand each line to every table in tables[] (NULL-terminated, with settings[]
 * alongside).  0, or -1 with every "file:line: message" appended to err.
 */
int conf_load(const char *path, const struct conf_entry *const tables[], void *const settings[],
    struct buf *err);

/*
 * The line of path that last sets key (what took effect), or 0 when none does, for
 * "file:line: message" about a value checked after loading.
 */
int conf_key_line(const char *path, const char *key);

#endif
