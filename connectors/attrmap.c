/*
 * Attribute name synonyms.  The table is data: adding a name an app uses is one line.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attrmap.h"
#include "xmalloc.h"

static const struct {
	enum attrmap_source source;
	const char *name;
} synonyms[] = {
	{ ATTRMAP_EMAIL, "email" },
	{ ATTRMAP_EMAIL, "mail" },
	{ ATTRMAP_EMAIL, "emailAddress" },
	{ ATTRMAP_EMAIL, "urn:oid:0.9.2342.19200300.100.1.3" },
	{ ATTRMAP_EMAIL, "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress" },
	{ ATTRMAP_DISPLAY_NAME, "displayName" },
	{ ATTRMAP_DISPLAY_NAME, "cn" },
	{ ATTRMAP_DISPLAY_NAME, "urn:oid:2.16.840.1.113730.3.1.241" },
	{ ATTRMAP_DISPLAY_NAME, "urn:oid:2.5.4.3" },
	{ ATTRMAP_DISPLAY_NAME, "http://schemas.microsoft.com/identity/claims/displayname" },
	{ ATTRMAP_GROUPS, "groups" },
	{ ATTRMAP_GROUPS, "memberOf" },
	{ ATTRMAP_GROUPS, "isMemberOf" },
	{ ATTRMAP_GROUPS, "urn:oid:1.3.6.1.4.1.5923.1.5.1.1" },
	{ ATTRMAP_GROUPS, "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups" },
	{ ATTRMAP_USERNAME, "uid" },
	{ ATTRMAP_USERNAME, "username" },
	{ ATTRMAP_USERNAME, "urn:oid:0.9.2342.19200300.100.1.1" },
};

int
attrmap_source(const char *name, enum attrmap_source *src_r)
{
	for (size_t i = 0; name && i < sizeof(synonyms) / sizeof(synonyms[0]); i++)
		if (!strcasecmp(name, synonyms[i].name)) {
			*src_r = synonyms[i].source;
			return 0;
		}
	return -1;
}

static void
put(struct attrmap_entry *e, enum attrmap_source src, const char *name, const char *fmt,
    const char *friendly)
{
	e->source = src;
	e->name = xstrdup(name);
	e->name_format = xstrdup(fmt ? fmt : ATTRMAP_BASIC);
	e->friendly_name = friendly ? xstrdup(friendly) : NULL;
}

size_t
attrmap_for_sp(const struct spmeta *m, struct attrmap_entry out[ATTRMAP_MAX])
{
	size_t n = 0;

	if (m == NULL || m->nrequested == 0) {
		put(&out[n++], ATTRMAP_EMAIL, "email", NULL, NULL);
		put(&out[n++], ATTRMAP_DISPLAY_NAME, "displayName", NULL, NULL);
		put(&out[n++], ATTRMAP_GROUPS, "groups", NULL, NULL);
		return n;
	}
	for (size_t i = 0; i < m->nrequested && n < ATTRMAP_MAX; i++) {
		const struct spmeta_attr *a = &m->requested[i];
		enum attrmap_source src;
		if (attrmap_source(a->name, &src) == -1 &&
		    attrmap_source(a->friendly_name, &src) == -1)
			continue;
		put(&out[n++], src, a->name, a->name_format, a->friendly_name);
	}
	return n;
}

void
attrmap_clear(struct attrmap_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].name_format);
		free(e[i].friendly_name);
	}
}
