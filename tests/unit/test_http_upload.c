/*
 * Unit tests for the multipart/form-data bodies of idp/web/http.c (http_upload_parse),
 * through a real libmicrohttpd server on 127.0.0.1 and raw requests: text fields land in
 * the form, the file in http_file (cut at file_max + 1 bytes); a second file, a part not
 * expected, too many parts, a long field, no boundary or a body cut short are refused
 * with a reason and an empty form; the server answers the next request.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "http.h"
#include "http_fixture.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define B "--XyZ\r\n"
#define END "--XyZ--\r\n"
#define FIELD(n, v) B "Content-Disposition: form-data; name=\"" n "\"\r\n\r\n" v "\r\n"
#define FILE_(n, f, v) B "Content-Disposition: form-data; name=\"" n "\"; filename=\"" f \
	"\"\r\nContent-Type: image/png\r\n\r\n" v "\r\n"

static const char *const fields[] = { "csrf", "name", NULL };
static const struct http_upload up = { fields, "icon", 16, 32 };

/* The handler: what the parse gave, as the response body. */
static void
handler(struct http_req *req, void *arg)
{
	const struct http_file *f;
	const char *err = NULL, *csrf, *name;
	struct buf b;

	(void)arg;
	buf_init(&b, 0);
	if (http_upload_parse(req, &up, &err) == -1) {
		buf_printf(&b, "err %s form=%zu file=%d", err, http_form(req)->n,
		    http_file(req) != NULL);
	} else {
		f = http_file(req);
		csrf = form_get(http_form(req), "csrf");
		name = form_get(http_form(req), "name");
		buf_printf(&b, "ok csrf=%s name=%s", csrf ? csrf : "-", name ? name : "-");
		if (f)
			buf_printf(&b, " file=%s:%s:%s:%zu:%.*s", f->name, f->filename,
			    f->content_type ? f->content_type : "-", f->len, (int)f->len,
			    (const char *)f->data);
	}
	http_body_take(req, "text/plain", b.data, b.len);
}

static struct http_server *srv;
static int port;

static int
setup(void **state)
{
	(void)state;
	srv = http_fixture_start(handler, &port);
	assert_non_null(srv);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	http_stop(srv);
	return 0;
}

static int
post(const char *ctype, const char *body, size_t blen, char *out, size_t max)
{
	return http_fixture_post(port, ctype, body, blen, out, max);
}

static const char mp[] = "multipart/form-data; boundary=XyZ";

static void
test_http_upload_fields_and_file(void **state)
{
	static const struct {
		const char *body, *want;
	} cases[] = {
		{ FIELD("csrf", "t0k") FIELD("name", "crm") FILE_("icon", "i.png", "PNGDATA") END,
		    "ok csrf=t0k name=crm file=icon:i.png:image/png:7:PNGDATA" },
		{ FILE_("icon", "i.png", "PNG") FIELD("csrf", "") END, "ok csrf= name=- file=icon:"
		    "i.png:image/png:3:PNG" },
		/* A browser sends an empty file part when none was chosen: no file. */
		{ FIELD("csrf", "a") FILE_("icon", "", "") END, "ok csrf=a name=-" },
		/* Longer than file_max: cut at file_max + 1 so the reader's check refuses it. */
		{ FILE_("icon", "big", "0123456789abcdefXYZ") END,
		    "ok csrf=- name=- file=icon:big:image/png:17:0123456789abcdefX" },
		/* A value that holds the boundary's start without the boundary. */
		{ FIELD("csrf", "x\r\n--Xy") END, "ok csrf=x\r\n--Xy name=-" },
	};
	char out[1024];

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		assert_int_equal(post(mp, cases[i].body, strlen(cases[i].body), out,
		    sizeof(out)), 200);
		assert_string_equal(out, cases[i].want);
	}
}

static void
test_http_upload_refusals(void **state)
{
	static const struct {
		const char *ctype, *body, *why;
	} cases[] = {
		{ mp, FILE_("icon", "a", "1") FILE_("icon", "b", "2") END, "a second file" },
		{ mp, FIELD("csrf", "a") FIELD("evil", "b") END, "a part that is not expected" },
		{ mp, FILE_("csrf", "c.txt", "x") END, "a part that is not expected" },
		{ mp, FIELD("csrf", "a") FIELD("csrf", "b") END, "sent twice" },
		{ mp, FIELD("csrf", "a") FIELD("name", "b") FILE_("icon", "i", "x")
		    FIELD("name", "c") END, "more parts than expected" },
		{ mp, FIELD("csrf", "0123456789abcdef0123456789abcdefX") END, "longer than allowed" },
		{ mp, B "Content-Disposition: form-data\r\n\r\nx\r\n" END, "has no name" },
		{ "multipart/form-data", FIELD("csrf", "a") END, "no boundary" },
		{ "multipart/form-data; boundary=", FIELD("csrf", "a") END, "no boundary" },
		{ mp, FIELD("csrf", "a") B "Content-Disposition: form-data; name=\"na", "cut short" },
		{ mp, FIELD("csrf", "a"), "cut short" },
		{ mp, "", "cut short" },
		{ mp, "no boundary here at all", "cut short" },
	};
	char out[1024];

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		assert_int_equal(post(cases[i].ctype, cases[i].body, strlen(cases[i].body), out,
		    sizeof(out)), 200);
		assert_non_null(strstr(out, cases[i].why));
		assert_non_null(strstr(out, " form=0 file=0"));
	}
	/* A NUL in a text field: refused (the form's values are C strings). */
	assert_int_equal(post(mp, FIELD("csrf", "a\0b") END, sizeof(FIELD("csrf", "a\0b") END) -
	    1, out, sizeof(out)), 200);
	assert_non_null(strstr(out, "NUL byte"));
	/* And the server goes on serving. */
	assert_int_equal(post(mp, FIELD("csrf", "z") END, strlen(FIELD("csrf", "z") END), out,
	    sizeof(out)), 200);
	assert_string_equal(out, "ok csrf=z name=-");
}

/* A body of another type is not the parser's: the urlencoded form stays as parsed. */
static void
test_http_upload_other_types(void **state)
{
	char out[1024];

	(void)state;
	assert_int_equal(post("application/x-www-form-urlencoded", "csrf=u&name=n", 13, out,
	    sizeof(out)), 200);
	assert_string_equal(out, "ok csrf=u name=n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_upload_fields_and_file),
		cmocka_unit_test(test_http_upload_refusals),
		cmocka_unit_test(test_http_upload_other_types),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
