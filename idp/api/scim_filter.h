/*
 * SCIM filters (RFC 7644 3.4.2.2) and attribute paths (with value filters, as PATCH uses
 * them): parsed once, then matched against a resource's JSON representation.  Attribute
 * names compare without regard to case; values as RFC 7643 says of the attribute
 * (caseExact: id, externalId, members.value ...; the others ignore case).
 */
#ifndef SEKISHO_SCIM_FILTER_H
#define SEKISHO_SCIM_FILTER_H

#include <jansson.h>

#define SCIM_URN_USER "urn:ietf:params:scim:schemas:core:2.0:User"
#define SCIM_URN_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"
#define SCIM_URN_ENTERPRISE "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

#define SCIM_FILTER_MAX 4096	/* bytes of a filter or path */

/* Why a request failed, in SCIM's terms (RFC 7644 3.12). */
struct scim_err {
	int status;		/* 400, 404, 409 ... */
	const char *type;	/* scimType ("invalidFilter" ...) or NULL */
	char detail[256];
};
/* Fill e; returns -1. */
int scim_fail(struct scim_err *e, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

struct scim_filter;

/* An attribute path: [URN:]attr[[value filter]][.sub], or an extension's URN alone. */
struct scim_path {
	char *urn;		/* an extension's schema URN, or NULL (the resource's core schema) */
	char *attr;		/* "emails"; NULL when the path is the URN alone */
	struct scim_filter *vf;	/* [type eq "work"], or NULL */
	char *sub;		/* "value", or NULL */
};
/* Parse a PATCH path: 0, or -1 with e (400 invalidPath). */
int scim_path_parse(const char *s, struct scim_path *p_r, struct scim_err *e);
void scim_path_clear(struct scim_path *p);

/* Parse a filter: a new filter, or NULL with e (400 invalidFilter). */
struct scim_filter *scim_filter_parse(const char *s, struct scim_err *e);
void scim_filter_free(struct scim_filter *f);
/*
 * 1 when v matches f, else 0.  v is a resource (parent NULL), or one value of the
 * multi-valued attribute parent ("members", "emails") when f is a value filter.
 */
int scim_filter_match(const struct scim_filter *f, const json_t *v, const char *parent);
/* 1 when f compares the top-level attribute attr (so a resource needs it to be matched). */
int scim_filter_uses(const struct scim_filter *f, const char *attr);
/* When f is exactly `attr eq "string"` (any case of attr): the string (borrowed), else NULL. */
const char *scim_filter_eq(const struct scim_filter *f, const char *attr);
/*
 * When f is `a eq V` or such comparisons joined by `and` (as in emails[type eq "work"]),
 * set each a to V in obj (a value to add where the filter matched none): 0, else -1.
 */
int scim_filter_template(const struct scim_filter *f, json_t *obj);

/* The member name of object o, without regard to case (borrowed), or NULL. */
json_t *scim_get(const json_t *o, const char *name);
/* The key of that member as o spells it (borrowed), or NULL. */
const char *scim_key(const json_t *o, const char *name);

#endif
