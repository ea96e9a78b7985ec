/*
 * JSON answers of the OIDC endpoints and OAuth 2.0 error responses (RFC 6749 5.2):
 * never cached, never framed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "oidc.h"

void
oidc_json(struct http_req *req, int status, json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT);

	json_decref(body);
	http_status(req, status);
	http_add_header(req, "Cache-Control", "no-store");
	http_add_header(req, "Pragma", "no-cache");
	if (s)
		http_body_take(req, "application/json", s, strlen(s));
}

void
oidc_error(struct http_req *req, int status, const char *error, const char *description)
{
	json_t *body = json_pack("{s:s}", "error", error);

	if (description)
		json_object_set_new(body, "error_description", json_string(description));
	if (status == 401)
		http_add_header(req, "WWW-Authenticate", "Basic realm=\"sekisho\"");
	oidc_json(req, status, body);
}
