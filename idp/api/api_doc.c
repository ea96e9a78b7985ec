/*
 * The OpenAPI 3.1 document of the admin API, assembled once from the base document and
 * one fragment per resource file (built into the binary from idp/api/openapi/), and
 * served at api/v1/openapi.json with the tenant's own server URL.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_int.h"
#include "embedded.h"
#include "log.h"
#include "xmalloc.h"

static const char *const fragments[] = {
	"users.json", "apps.json", "catalog.json", "policies.json", "certs.json", "audit.json",
	"keys.json", "tenant.json", "factors.json", "stats.json", NULL
};

static json_t *
load(const char *name, const char **errstr)
{
	json_error_t je;

	for (const struct embedded_file *f = embedded_files; f->name; f++) {
		if (strcmp(f->name, name))
			continue;
		json_t *j = json_loadb(f->data, f->len, JSON_REJECT_DUPLICATES, &je);
		if (j == NULL || !json_is_object(j)) {
			json_decref(j);
			*errstr = "an OpenAPI fragment is not a JSON object";
			return NULL;
		}
		return j;
	}
	*errstr = "an OpenAPI fragment is missing";
	return NULL;
}

/* Add every member of from's member key into into's (objects); -1 when one exists. */
static int
merge_member(json_t *into, json_t *from, const char *key)
{
	json_t *src = json_object_get(from, key), *dst = json_object_get(into, key);
	const char *k;
	json_t *v;

	if (src == NULL)
		return 0;
	if (!json_is_object(src) || !json_is_object(dst))
		return -1;
	json_object_foreach(src, k, v) {
		if (json_object_get(dst, k))
			return -1;
		json_object_set(dst, k, v);
	}
	return 0;
}

static int
merge(json_t *doc, json_t *frag)
{
	json_t *dc = json_object_get(doc, "components"), *fc = json_object_get(frag, "components");

	if (merge_member(doc, frag, "paths") == -1)
		return -1;
	if (fc == NULL)
		return 0;
	for (const char *const *k = (const char *const[]){ "schemas", "responses", "parameters",
	    NULL }; *k; k++)
		if (merge_member(dc, fc, *k) == -1)
			return -1;
	return 0;
}

json_t *
api_doc_build(const char **errstr)
{
	return api_doc_assemble("base.json", fragments, errstr);
}

json_t *
api_doc_assemble(const char *base, const char *const *names, const char **errstr)
{
	json_t *doc = load(base, errstr);

	for (const char *const *f = names; doc && *f; f++) {
		json_t *frag = load(*f, errstr);
		if (frag == NULL || merge(doc, frag) == -1) {
			if (frag)
				*errstr = "an OpenAPI fragment repeats a path or a component";
			json_decref(doc);
			doc = NULL;
		}
		json_decref(frag);
	}
	return doc;
}

static json_t *document;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
build_once(void)
{
	const char *err = NULL;

	if ((document = api_doc_build(&err)) == NULL)
		log_error("the OpenAPI document cannot be built: %s", err);
}

const json_t *
api_openapi(void)
{
	pthread_once(&once, build_once);
	return document;
}

void
api_doc_serve(struct api_call *c, const json_t *doc)
{
	json_t *copy;
	char *url;

	if (strcmp(http_method(c->req), "GET") && strcmp(http_method(c->req), "HEAD")) {
		http_add_header(c->req, "Allow", "GET, HEAD");
		api_error(c, 405, "method_not_allowed", NULL, "GET only");
		return;
	}
	if (doc == NULL) {
		api_error(c, 500, "internal", NULL, "the document is not available");
		return;
	}
	copy = json_deep_copy(doc);
	url = xasprintf("%s/api/v1", c->t->base);
	json_object_set_new(copy, "servers", json_pack("[{s:s}]", "url", url));
	free(url);
	http_add_header(c->req, "Cache-Control", "public, max-age=300");
	api_reply(c, 200, copy);
}
