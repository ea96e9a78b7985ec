/*
 * Which user attributes an app receives and under which names: the names an SP requests
 * in its metadata are matched against known synonyms; an SP that requests nothing gets
 * email, displayName and groups under those names.
 */
#ifndef SEKISHO_ATTRMAP_H
#define SEKISHO_ATTRMAP_H

#include <stddef.h>

#include "spmeta.h"

enum attrmap_source {
	ATTRMAP_EMAIL,
	ATTRMAP_DISPLAY_NAME,
	ATTRMAP_GROUPS,
	ATTRMAP_USERNAME,
};

#define ATTRMAP_BASIC "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
#define ATTRMAP_URI "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"

struct attrmap_entry {
	enum attrmap_source source;
	char *name;
	char *name_format;
	char *friendly_name;	/* may be NULL */
};

#define ATTRMAP_MAX SPMETA_MAX_REQUESTED

/* Which user field name is a synonym of: 0 with *src_r, or -1 when none. */
int attrmap_source(const char *name, enum attrmap_source *src_r);
/* Fill out[] for this SP; returns the count. */
size_t attrmap_for_sp(const struct spmeta *m, struct attrmap_entry out[ATTRMAP_MAX]);
void attrmap_clear(struct attrmap_entry *e, size_t n);

#endif
