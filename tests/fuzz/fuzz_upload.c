/*
 * Fuzz target: multipart/form-data bodies as the console's upload routes read them
 * (http_upload_parse in idp/web/http.c, libmicrohttpd's post processor), sent to a real
 * server on 127.0.0.1.  The first byte picks the Content-Type (with a boundary, a quoted
 * one, none).  Properties: a parse that succeeds holds only the expected fields, each
 * once, and at most one file of at most file_max + 1 bytes; one that fails says why and
 * leaves no field and no file; the server answers every request.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "fuzz.h"
#include "http.h"
#include "http_fixture.h"

static const char *const fields[] = { "csrf", "name", NULL };
static const struct http_upload up = { fields, "icon", 64, 32 };
static int port;

static void
check_form(const struct form *fm)
{
	for (size_t i = 0; i < fm->n; i++) {
		FUZZ_ASSERT(!strcmp(fm->f[i].name, "csrf") || !strcmp(fm->f[i].name, "name"));
		FUZZ_ASSERT(form_get_field(fm, fm->f[i].name) == &fm->f[i]);
		FUZZ_ASSERT(strlen(fm->f[i].value) <= up.field_max);
	}
}

static void
handler(struct http_req *req, void *arg)
{
	const struct http_file *f;
	const char *err = NULL;

	(void)arg;
	if (http_upload_parse(req, &up, &err) == -1) {
		FUZZ_ASSERT(err != NULL && http_form(req)->n == 0 && http_file(req) == NULL);
		fuzz_verdict(err);
	} else {
		check_form(http_form(req));
		if ((f = http_file(req)) != NULL)
			FUZZ_ASSERT(!strcmp(f->name, "icon") && f->len >= 1 &&
			    f->len <= up.file_max + 1 && f->filename != NULL);
		fuzz_verdict(NULL);
	}
	http_body_copy(req, "text/plain", "done", 4);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (http_fixture_start(handler, &port) == NULL) {
		fprintf(stderr, "fuzz_upload: cannot start the HTTP server\n");
		exit(1);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = { "multipart/form-data; boundary=XyZ",
		"multipart/form-data; boundary=\"XyZ\"", "multipart/form-data" };
	char out[64];

	if (size == 0 || size > 60000)
		return 0;
	FUZZ_ASSERT(http_fixture_post(port, types[data[0] % 3], (const char *)data + 1,
	    size - 1, out, sizeof(out)) == 200 && !strcmp(out, "done"));
	return 0;
}
