/*
 * What the admin API's own files share (api.c, api_util.c, api_doc.c) and the test of
 * the route tables against the OpenAPI document.
 */
#ifndef SEKISHO_API_INT_H
#define SEKISHO_API_INT_H

#include "api.h"

struct apikey_hit;

/* How a refusal before the handler is answered: the API's JSON or SCIM's. */
typedef void (*api_err_fn)(struct api_call *c, int status, const char *error,
    const char *detail);

/* Does path match pattern ("users/{name}")?  Its {...} segments go to params (may be NULL). */
int api_match(const char *pattern, const char *path, char params[][API_SEGMENT_MAX + 1]);
/* Answer a refused key, or 0 when the call may go on (c's key name and scopes set). */
int key_verdict(struct api_call *c, struct apikey_hit *h, api_err_fn err);
/* GET openapi.json: the document doc (NULL: not built) with this tenant's server URL. */
void api_doc_serve(struct api_call *c, const json_t *doc);
/*
 * An API of route tables routes (NULL-terminated) and document doc for tenant t (the
 * operator's is STORE_OPERATOR's pseudo-tenant): authenticate with t's keys, dispatch,
 * audit in t's trail.
 */
void api_route_tables(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const char *rest, const struct api_route *const *routes, const json_t *doc);
/* The document assembled from the fragments base (a whole document) and names (NULL ends). */
json_t *api_doc_assemble(const char *base, const char *const *names, const char **errstr);
/* The document assembled from the embedded fragments, or NULL with *errstr. */
json_t *api_doc_build(const char **errstr);

#endif
