/*
 * The SCIM 2.0 server's parts (RFC 7643, 7644): scim.c routes, authenticates through the
 * admin API's api_begin, answers in SCIM's shape and serves the discovery documents;
 * scim_user.c and scim_group.c map Users and Groups onto the tenant's users and groups
 * through the admin layer (admin_user.h).
 */
#ifndef SEKISHO_SCIM_H
#define SEKISHO_SCIM_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "scim_filter.h"
#include "scim_patch.h"

#define SCIM_URN_ERROR "urn:ietf:params:scim:api:messages:2.0:Error"
#define SCIM_URN_LIST "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define SCIM_LIST_DEFAULT 100
#define SCIM_LIST_MAX 200
#define SCIM_CONTENT_TYPE "application/scim+json"

/* ---- answers (scim.c) ---- */
/* status with body (stolen; NULL: none), Content-Type application/scim+json. */
void scim_reply(struct api_call *c, int status, json_t *body);
void scim_error(struct api_call *c, const struct scim_err *e);
void scim_errorf(struct api_call *c, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The answer for c->adm's last failure (400 invalidValue, 404, 409 uniqueness ...). */
void scim_admin_error(struct api_call *c);
/* One resource: 200 (or 201 with Location) with its ETag (meta.version). rep is stolen. */
void scim_send(struct api_call *c, int status, json_t *rep);

/* ---- resources ---- */
/* The resource's URI: the tenant's scim/v2/ + kind ("Users") + "/" + id (new string). */
char *scim_location(const struct api_call *c, const char *kind, const char *id);
/*
 * Finish rep: meta (resourceType, created, lastModified, location, and when complete (rep
 * has every attribute) version: the weak ETag of rep without meta).
 */
void scim_meta(const struct api_call *c, json_t *rep, const char *type, const char *kind,
    const char *id, uint64_t created, uint64_t modified, int complete);
/* If-Match against current's meta.version: 0 when it matches or is absent, -1 after 412. */
int scim_if_match(struct api_call *c, const json_t *current);
/* 1 when the answer should carry attr (attributes= and excludedAttributes= parameters). */
int scim_returned(const struct api_call *c, const char *attr);
/* rep cut down as attributes= / excludedAttributes= ask (id and schemas always stay). */
void scim_project(const struct api_call *c, json_t *rep);

/* ---- lists ---- */
struct scim_list {
	struct scim_filter *filter;	/* or NULL */
	size_t start;			/* startIndex, from 1 */
	size_t count;			/* at most this many resources */
	size_t total;			/* totalResults so far */
	json_t *resources;
};
/* From filter=, startIndex=, count=: 0, or -1 after answering 400. */
int scim_list_init(struct api_call *c, struct scim_list *l);
/*
 * Count a resource that matches the filter: 1 when it falls inside the page (the caller
 * adds its full representation with scim_list_add), else 0.
 */
int scim_list_take(struct scim_list *l, const json_t *rep);
void scim_list_add(const struct api_call *c, struct scim_list *l, json_t *rep);
/* 200 ListResponse; frees l. */
void scim_list_reply(struct api_call *c, struct scim_list *l);
void scim_list_free(struct scim_list *l);

/* ---- Users and Groups (scim_resource.c does what both have in common) ---- */
struct scim_kind {
	const char *endpoint;	/* "Users" */
	const char *type;	/* "User" */
	const char *key;	/* the attribute naming one ("userName"): found without a scan */
	const char *heavy;	/* the attribute that costs lookups ("groups", "members") */
	/* The resource id as SCIM shows it (with heavy when asked): 1 with *rep_r, 0, -1. */
	int (*get)(const struct api_call *c, const char *id, int heavy, json_t **rep_r);
	/* Append to ids the ids of every resource, or of the one called name: 0 or -1. */
	int (*ids)(const struct api_call *c, const char *name, json_t *ids);
	/* POST: create from c->body and answer. */
	void (*create)(struct api_call *c);
	/* PUT, PATCH: make id what want says and answer; before (stolen) is it now. */
	void (*update)(struct api_call *c, const char *id, json_t *before, const json_t *want);
	/* DELETE the resource shown as cur: 0, or -1 after admin_fail. */
	int (*remove)(struct api_call *c, const json_t *cur);
};
extern const struct scim_kind scim_user_kind;	/* scim_user.c */
extern const struct scim_kind scim_group_kind;	/* scim_group.c */
/*
 * The collection (id NULL: GET lists, POST creates) or one resource (GET, PUT, PATCH,
 * DELETE); scim.c has checked the method, and that POST, PUT and PATCH have a body.
 */
void scim_resource(struct api_call *c, const struct scim_kind *k, const char *method,
    const char *id);
/* Answer with id as it is now (200, 201), the change from before (stolen) audited. */
void scim_answer(struct api_call *c, const struct scim_kind *k, int status, const char *id,
    json_t *before);

/* A string member of o (any case of name): 0 with *s_r (NULL when absent or null), or -1
 * with e when it is something else. */
int scim_str(const json_t *o, const char *name, const char **s_r, struct scim_err *e);

#endif
