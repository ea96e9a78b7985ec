/*
 * What the files of the app catalog share (catalog.c reads templates, catalog_fill.c
 * fills them in, catalog_load.c gathers them): not for other modules.
 */
#ifndef SEKISHO_CATALOG_INT_H
#define SEKISHO_CATALOG_INT_H

#include <stddef.h>

#include "catalog.h"

/* The parameter called name (n bytes), or NULL. */
const struct catalog_param *catalog_param_find(const struct catalog_tmpl *t, const char *name,
    size_t n);
/*
 * pattern with each {param} replaced by vals[its index] (new), or NULL when one of them
 * is NULL (an optional parameter not given).
 */
char *catalog_fill(const struct catalog_tmpl *t, const char *pattern,
    const char *const vals[CATALOG_MAX_PARAMS]);
/* 1 when id can be an entity ID: 1-1024 bytes, no white space, quotes or angle brackets. */
int catalog_entity_ok(const char *id);
/* The NameID format URI of "persistent", "transient", "email"; NULL for others. */
const char *catalog_nameid_uri(const char *nameid);
/* The NameFormat URI of "basic", "uri", "unspecified"; NULL for others. */
const char *catalog_format_uri(const char *fmt);
/* 1 when grants is a comma-separated list of grant types Sekisho knows. */
int catalog_grants_ok(const char *grants);
/* 1 when key (n bytes) is a value Sekisho gives admins of protocol's apps. */
int catalog_paste_known(const char *protocol, const char *key, size_t n);
/* Those keys, for messages. */
const char *catalog_paste_keys(const char *protocol);
/* Where the count of the URL list at offset off of struct catalog_tmpl is. */
size_t catalog_count_off(size_t off);

/* The templates built into the binary (connectors/templates/, see the Makefile). */
struct catalog_file {
	const char *name;
	const char *data;	/* NUL-terminated */
	size_t len;
};
extern const struct catalog_file catalog_files[];

#endif
