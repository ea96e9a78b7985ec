/*
 * libmicrohttpd glue: one request object per request, body collection under a cap, raw
 * query capture (SAML Redirect signatures cover the bytes as sent) and response assembly
 * with security headers.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "cookie.h"
#include "forwarded.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

#define HTTP_MAX_HEADERS 24
#define HTTP_MAX_URI 16384

struct http_server {
	struct MHD_Daemon *d;
	struct http_settings hs;
	http_handler_fn fn;
	void *arg;
	int inflight;		/* requests begun and not completed (atomic) */
	int closing;		/* draining: every response closes its connection (atomic) */
	int quiesced_fd;	/* the listener MHD gave back when draining, or -1 */
	int quiesced;		/* http_drain asked MHD to stop accepting */
};

struct header {
	char *name, *value;
};

/* A file part of a multipart body: what http_file lends out. */
struct upload_file {
	struct http_file pub;
	char *name, *filename, *ctype;
	struct buf data;
};

struct http_req {
	struct http_server *srv;
	struct MHD_Connection *conn;
	char *uri;
	char *path;
	const char *raw_query;
	char method[8];
	int started;
	int64_t t0_us;		/* monotonic: when the request line arrived (latency metrics) */
	int too_large;
	int bad_query;
	const char *bad_why;
	struct form query;
	struct form form;
	struct cookie_jar cookies;
	struct buf body;
	struct upload_file *upload;	/* the file of a multipart body, or NULL */
	char ip[INET6_ADDRSTRLEN];	/* the TCP peer */
	char client[FORWARDED_IP_MAX];	/* the client behind trusted proxies */
	/* response */
	int status;
	struct header hdrs[HTTP_MAX_HEADERS];
	size_t nhdrs;
	char *csp;
	char *ctype;
	char *rbody;
	size_t rlen;
	http_stream_fn stream;	/* a body produced in pieces, instead of rbody */
	void *stream_arg;
	void (*stream_free)(void *);
	void *data;
	void (*data_free)(void *);
};

static const char default_csp[] =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

/* ---- request accessors ---- */

const char *
http_method(const struct http_req *req)
{
	return req->method;
}

const char *
http_path(const struct http_req *req)
{
	return req->path;
}

const char *
http_raw_query(const struct http_req *req)
{
	return req->raw_query;
}

const struct form *
http_query(const struct http_req *req)
{
	return &req->query;
}

const struct form *
http_form(const struct http_req *req)
{
	return &req->form;
}

const struct buf *
http_body(const struct http_req *req)
{
	return &req->body;
}

const char *
http_input_error(const struct http_req *req)
{
	return req->bad_query ? req->bad_why : NULL;
}

const char *
http_header(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result
cookie_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	if (strcasecmp(key, "Cookie") == 0 && value != NULL)
		cookie_parse(cls, value, strlen(value));
	return MHD_YES;
}

const char *
http_cookie(const struct http_req *req, const char *name)
{
	return cookie_get(&req->cookies, name);
}

const char *
http_client_ip(const struct http_req *req)
{
	return req->client;
}

const char *
http_peer_ip(const struct http_req *req)
{
	return req->ip;
}

struct joined {
	const char *name;
	struct buf b;
};

static enum MHD_Result
join_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct joined *j = cls;

	if (strcasecmp(key, j->name) == 0 && value != NULL)
		buf_printf(&j->b, "%s%s", j->b.len ? ", " : "", value);
	return MHD_YES;
}

/*
 * Every line of a header, in order, as one comma-separated list (RFC 9110 5.3): a proxy
 * that adds its own line after the client's must have the last word.  NULL when absent.
 */
static char *
header_joined(struct http_req *req, const char *name)
{
	struct joined j = { .name = name };

	buf_init(&j.b, 0);
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, join_header, &j);
	return j.b.data;
}

/* The client's address; -1 when a trusted proxy's header does not parse where it counts. */
static int
find_client(struct http_req *req)
{
	const struct ipnet_list *trusted = req->srv->hs.trusted_proxies;
	char *xff, *fwd;
	int rc;

	snprintf(req->client, sizeof(req->client), "%s", req->ip);
	if (trusted == NULL || trusted->n == 0 || !ipnet_match(trusted, req->ip))
		return 0;
	xff = header_joined(req, "X-Forwarded-For");
	fwd = header_joined(req, "Forwarded");
	rc = forwarded_client(req->ip, xff, fwd, trusted, req->client);
	free(xff);
	free(fwd);
	return rc < 0 ? -1 : 0;
}

const unsigned char *
http_peer_cert(const struct http_req *req, size_t *len_r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn,
	    MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const gnutls_datum_t *certs;
	unsigned int n = 0;

	if (ci == NULL || ci->tls_session == NULL)
		return NULL;
	certs = gnutls_certificate_get_peers((gnutls_session_t)ci->tls_session, &n);
	if (certs == NULL || n == 0 || certs[0].size == 0)
		return NULL;
	*len_r = certs[0].size;
	return certs[0].data;
}

void
http_set_data(struct http_req *req, void *data, void (*free_fn)(void *))
{
	if (req->data && req->data_free)
		req->data_free(req->data);
	req->data = data;
	req->data_free = free_fn;
}

void *
http_get_data(const struct http_req *req)
{
	return req->data;
}

/* ---- multipart/form-data bodies (routes that take a file) ---- */

/* The parse of one body: the part being read, how many came, the first fault. */
struct upload {
	struct http_req *req;
	const struct http_upload *up;
	struct upload_file *file;	/* the file part, once it began */
	int open;			/* a part is being read */
	int is_file;			/* it is the file */
	char *name;			/* a text part's name */
	struct buf value;		/* a text part's value */
	size_t parts;
	const char *err;
};

static void
upload_file_free(struct upload_file *f)
{
	if (f == NULL)
		return;
	free(f->name);
	free(f->filename);
	free(f->ctype);
	buf_free(&f->data);
	free(f);
}

int
http_is_multipart(const struct http_req *req)
{
	const char *ct = http_header(req, "Content-Type");

	return ct && strncasecmp(ct, "multipart/form-data", 19) == 0;
}

const struct http_file *
http_file(const struct http_req *req)
{
	return req->upload && req->upload->data.len ? &req->upload->pub : NULL;
}

/* The text part just read into the form: 0, or -1 with u->err. */
static int
upload_field_end(struct upload *u)
{
	struct form *fm = &u->req->form;
	struct form_field *f;

	if (memchr(u->value.data ? u->value.data : "", '\0', u->value.len)) {
		u->err = "a form field has a NUL byte";
		return -1;
	}
	if (fm->n == FORM_MAX_FIELDS) {
		u->err = "the form has more parts than expected";
		return -1;
	}
	f = &fm->f[fm->n++];
	f->name = u->name;
	f->value = u->value.data ? buf_steal(&u->value, NULL) : xstrdup("");
	u->name = NULL;
	return 0;
}

static int
upload_part_end(struct upload *u)
{
	int rc = 0;

	if (u->open && !u->is_file)
		rc = upload_field_end(u);
	free(u->name);
	u->name = NULL;
	buf_free(&u->value);
	u->open = 0;
	return rc;
}

/* 1 when name is one of the text fields up expects; how many there are in *n_r. */
static int
upload_expected(const struct http_upload *up, const char *name, size_t *n_r)
{
	int found = 0;

	*n_r = 0;
	for (const char *const *f = up->fields; *f; f++, (*n_r)++)
		found |= name && !strcmp(*f, name);
	return found;
}

/* Whether a part may come: 0, or -1 with u->err. */
static int
upload_part_ok(struct upload *u, const char *key, const char *filename)
{
	size_t n;
	int expected = upload_expected(u->up, key, &n);

	if (key == NULL)
		u->err = "a part of the form has no name";
	else if (filename && u->file)
		u->err = "the form has a second file";
	else if (++u->parts > n + 1)
		u->err = "the form has more parts than expected";
	else if (filename ? strcmp(key, u->up->file) != 0 : !expected)
		u->err = "the form has a part that is not expected";
	else if (!filename && form_get(&u->req->form, key))
		u->err = "a form field is sent twice";
	return u->err ? -1 : 0;
}

static int
upload_part_begin(struct upload *u, const char *key, const char *filename, const char *ctype)
{
	if (upload_part_end(u) == -1 || upload_part_ok(u, key, filename) == -1)
		return -1;
	u->open = 1;
	u->is_file = filename != NULL;
	if (!u->is_file) {
		u->name = xstrdup(key);
		buf_init(&u->value, u->up->field_max);
		return 0;
	}
	u->file = xcalloc(1, sizeof(*u->file));
	u->file->name = xstrdup(key);
	u->file->filename = xstrdup(filename);
	u->file->ctype = ctype ? xstrdup(ctype) : NULL;
	buf_init(&u->file->data, u->up->file_max + 1);
	return 0;
}

/* More of the part: a file keeps file_max + 1 bytes at most, so its reader refuses it. */
static int
upload_part_data(struct upload *u, const char *data, size_t size)
{
	struct buf *b;

	if (!u->is_file) {
		if (buf_append(&u->value, data, size) == -1)
			u->err = "a form field is longer than allowed";
		return u->err ? -1 : 0;
	}
	b = &u->file->data;
	if (size > b->max - b->len)
		size = b->max - b->len;
	buf_append(b, data, size);
	return 0;
}

/*
 * libmicrohttpd's iterator: called at offset 0 when a part begins, and then with more of
 * its value.  It may call twice at offset 0 for one part (an empty call before the
 * first bytes), so an empty part of the same name and kind is taken to go on.
 */
static enum MHD_Result
upload_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
    const char *ctype, const char *enc, const char *data, uint64_t off, size_t size)
{
	struct upload *u = cls;
	size_t have = u->is_file ? u->file->data.len : u->value.len;
	int same = u->open && off == 0 && have == 0 && key && (filename != NULL) ==
	    u->is_file && !strcmp(key, u->is_file ? u->file->name : u->name);

	(void)kind;
	(void)enc;
	if (off == 0 && !same && upload_part_begin(u, key, filename, ctype) == -1)
		return MHD_NO;
	if (size && upload_part_data(u, data, size) == -1)
		return MHD_NO;
	return MHD_YES;
}

static int
upload_run(struct upload *u)
{
	struct http_req *req = u->req;
	struct MHD_PostProcessor *pp = MHD_create_post_processor(req->conn, 4096, upload_iter, u);
	enum MHD_Result ok;

	if (pp == NULL) {
		u->err = "the form's body has no boundary (or one too long)";
		return -1;
	}
	ok = MHD_post_process(pp, req->body.data ? req->body.data : "", req->body.len);
	if (ok == MHD_YES && upload_part_end(u) == -1)
		ok = MHD_NO;
	/* A body cut before its closing boundary leaves the processor unfinished. */
	if (MHD_destroy_post_processor(pp) == MHD_NO || u->parts == 0)
		ok = MHD_NO;
	if (ok == MHD_NO && u->err == NULL)
		u->err = "the form's body is cut short or malformed";
	return ok == MHD_YES ? 0 : -1;
}

int
http_upload_parse(struct http_req *req, const struct http_upload *up, const char **errstr)
{
	struct upload u = { .req = req, .up = up };
	int rc;

	if (strcmp(req->method, "POST") || !http_is_multipart(req) || req->upload)
		return 0;
	form_free(&req->form);
	rc = upload_run(&u);
	upload_part_end(&u);
	if (rc == -1) {
		form_free(&req->form);
		upload_file_free(u.file);
		*errstr = u.err;
		return -1;
	}
	if ((req->upload = u.file) != NULL)
		req->upload->pub = (struct http_file){ .name = u.file->name,
			.filename = u.file->filename, .content_type = u.file->ctype,
			.data = (const unsigned char *)u.file->data.data, .len = u.file->data.len };
	return 0;
}

/* ---- response ---- */

void
http_status(struct http_req *req, int status)
{
	req->status = status;
}

int
http_get_status(const struct http_req *req)
{
	return req->status;
}

void
http_add_header(struct http_req *req, const char *name, const char *value)
{
	if (req->nhdrs == HTTP_MAX_HEADERS) {
		log_error("too many response headers (dropping %s)", name);
		return;
	}
	req->hdrs[req->nhdrs].name = xstrdup(name);
	req->hdrs[req->nhdrs].value = xstrdup(value);
	req->nhdrs++;
}

void
http_set_csp(struct http_req *req, const char *csp)
{
	free(req->csp);
	req->csp = xstrdup(csp);
}

void
http_body_take(struct http_req *req, const char *content_type, char *data, size_t len)
{
	free(req->rbody);
	free(req->ctype);
	req->rbody = data;
	req->rlen = len;
	req->ctype = xstrdup(content_type);
}

void
http_body_copy(struct http_req *req, const char *content_type, const void *data, size_t len)
{
	http_body_take(req, content_type, xmemdup(data, len), len);
}

void
http_body_stream(struct http_req *req, const char *content_type, http_stream_fn fn, void *arg,
    void (*free_fn)(void *))
{
	free(req->rbody);
	free(req->ctype);
	req->rbody = NULL;
	req->rlen = 0;
	req->ctype = xstrdup(content_type);
	if (req->stream && req->stream_free)
		req->stream_free(req->stream_arg);
	req->stream = fn;
	req->stream_arg = arg;
	req->stream_free = free_fn;
}

void
http_redirect(struct http_req *req, const char *url)
{
	req->status = 303;
	http_add_header(req, "Location", url);
}

void
http_set_cookie(struct http_req *req, const char *name, const char *value, const char *path,
    int64_t max_age)
{
	char *c;

	if (max_age < 0)
		c = xasprintf("%s=; Path=%s; Max-Age=0; Secure; HttpOnly; SameSite=Lax", name, path);
	else if (max_age == HTTP_COOKIE_SESSION)
		c = xasprintf("%s=%s; Path=%s; Secure; HttpOnly; SameSite=Lax", name, value, path);
	else
		c = xasprintf("%s=%s; Path=%s; Max-Age=%lld; Secure; HttpOnly; SameSite=Lax", name,
		    value, path, (long long)max_age);
	http_add_header(req, "Set-Cookie", c);
	free(c);
}

/* ---- request life cycle ---- */

static void
req_free(struct http_req *req)
{
	if (req == NULL)
		return;
	if (req->data && req->data_free)
		req->data_free(req->data);
	if (req->stream && req->stream_free)
		req->stream_free(req->stream_arg);
	form_free(&req->query);
	form_free(&req->form);
	upload_file_free(req->upload);
	cookie_free(&req->cookies);
	buf_free(&req->body);
	for (size_t i = 0; i < req->nhdrs; i++) {
		free(req->hdrs[i].name);
		free(req->hdrs[i].value);
	}
	free(req->csp);
	free(req->ctype);
	free(req->rbody);
	free(req->uri);
	free(req->path);
	free(req);
}

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *
uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_req *req = xcalloc(1, sizeof(*req));
	const union MHD_ConnectionInfo *ci;

	req->srv = cls;
	req->conn = conn;
	req->uri = xstrndup(uri, HTTP_MAX_URI + 1);
	req->t0_us = mono_us();
	__atomic_add_fetch(&req->srv->inflight, 1, __ATOMIC_SEQ_CST);
	metrics_inflight(1);
	req->status = 200;
	buf_init(&req->body, (size_t)req->srv->hs.max_body);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->ip,
			    sizeof(req->ip));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->ip,
			    sizeof(req->ip));
	}
	return req;
}

static void
completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;

	if (*req_cls) {
		__atomic_sub_fetch(&srv->inflight, 1, __ATOMIC_SEQ_CST);
		metrics_inflight(-1);
	}
	req_free(*req_cls);
	*req_cls = NULL;
}

/* Split the URI into path and raw query; refuse paths that could be read two ways. */
static int
split_uri(struct http_req *req)
{
	char *q = strchr(req->uri, '?');
	size_t plen = q ? (size_t)(q - req->uri) : strlen(req->uri);

	if (strlen(req->uri) > HTTP_MAX_URI)
		return -1;
	req->path = xstrndup(req->uri, plen);
	req->raw_query = q ? q + 1 : "";
	if (req->path[0] != '/' || strchr(req->path, '%') || strstr(req->path, "//") ||
	    strstr(req->path, "/./") || strstr(req->path, "/../") || strchr(req->path, '\\') ||
	    strchr(req->path, ';'))
		return -1;
	plen = strlen(req->path);
	if ((plen >= 2 && !strcmp(req->path + plen - 2, "/.")) ||
	    (plen >= 3 && !strcmp(req->path + plen - 3, "/..")))
		return -1;
	for (const unsigned char *p = (const unsigned char *)req->path; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return -1;
	return 0;
}

static void
add_security_headers(struct http_req *req, struct MHD_Response *r)
{
	if (req->srv->hs.hsts)
		MHD_add_response_header(r, "Strict-Transport-Security",
		    "max-age=31536000; includeSubDomains");
	MHD_add_response_header(r, "Content-Security-Policy", req->csp ? req->csp : default_csp);
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
}

/* libmicrohttpd asks for the next piece of a streamed body. */
static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_req *req = cls;
	long n = req->stream(req->stream_arg, buf, max);

	(void)pos;
	if (n > 0)
		return n;
	return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

/* The request outlives the response (freed when the request completes), so the stream's
 * state stays with the request. */
static struct MHD_Response *
make_response(struct http_req *req)
{
	struct MHD_Response *r;

	if (req->stream)
		return MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_read,
		    req, NULL);
	r = MHD_create_response_from_buffer(req->rlen, req->rbody, MHD_RESPMEM_MUST_FREE);
	if (r)
		req->rbody = NULL;
	return r;
}

static enum MHD_Result
send_response(struct http_req *req)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	int has_cc = 0;

	if (req->rbody == NULL && req->stream == NULL) {
		char *msg = xasprintf("%d\n", req->status);
		http_body_take(req, "text/plain; charset=utf-8", msg, strlen(msg));
	}
	if ((r = make_response(req)) == NULL)
		return MHD_NO;
	add_security_headers(req, r);
	MHD_add_response_header(r, "Content-Type", req->ctype);
	for (size_t i = 0; i < req->nhdrs; i++) {
		if (!strcasecmp(req->hdrs[i].name, "Cache-Control"))
			has_cc = 1;
		MHD_add_response_header(r, req->hdrs[i].name, req->hdrs[i].value);
	}
	if (!has_cc)
		MHD_add_response_header(r, "Cache-Control", "no-store");
	if (__atomic_load_n(&req->srv->closing, __ATOMIC_SEQ_CST))
		MHD_add_response_header(r, "Connection", "close");
	ret = MHD_queue_response(req->conn, (unsigned int)req->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
fail_early(struct http_req *req, int status)
{
	char *msg = xasprintf("%d\n", status);

	req->status = status;
	http_body_take(req, "text/plain; charset=utf-8", msg, strlen(msg));
	http_add_header(req, "Connection", "close");
	return send_response(req);
}

static int
is_form(struct http_req *req)
{
	const char *ct = http_header(req, "Content-Type");

	return ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

static enum MHD_Result
first_call(struct http_req *req, const char *method)
{
	const char *cl;
	const char *err;

	req->started = 1;
	if (strcmp(method, "GET") && strcmp(method, "POST") && strcmp(method, "HEAD") &&
	    strcmp(method, "PUT") && strcmp(method, "PATCH") && strcmp(method, "DELETE"))
		return fail_early(req, 405);
	snprintf(req->method, sizeof(req->method), "%s", method);
	if (split_uri(req) == -1)
		return fail_early(req, 400);
	if (form_parse(&req->query, req->raw_query, strlen(req->raw_query), &err) == -1) {
		form_free(&req->query);
		req->bad_query = 1;
		req->bad_why = err;
	}
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, cookie_header, &req->cookies);
	if (find_client(req) == -1) {
		log_warn("request from %s: a trusted proxy sent a forwarding header that does not "
		    "parse", req->ip);
		return fail_early(req, 400);
	}
	cl = http_header(req, "Content-Length");
	if (cl) {
		char *end;
		unsigned long long n = strtoull(cl, &end, 10);
		if (*end || end == cl)
			return fail_early(req, 400);
		if (n > (unsigned long long)req->srv->hs.max_body)
			return fail_early(req, 413);
	}
	return MHD_YES;
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct http_server *srv = cls;
	struct http_req *req = *req_cls;
	const char *err;

	if (req == NULL)
		return MHD_NO;
	if (!req->started)
		return first_call(req, method);
	if (*upload_data_size) {
		if (!req->too_large && buf_append(&req->body, upload_data, *upload_data_size) == -1)
			req->too_large = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->too_large)
		return fail_early(req, 413);
	if (!req->bad_query && !strcmp(req->method, "POST") && is_form(req) && req->body.len &&
	    form_parse(&req->form, req->body.data, req->body.len, &err) == -1) {
		form_free(&req->form);
		req->bad_query = 1;
		req->bad_why = err;
	}
	srv->fn(req, srv->arg);
	metrics_request(req->path, mono_us() - req->t0_us);
	return send_response(req);
}

struct http_server *
http_start(const struct http_settings *hs, http_handler_fn fn, void *arg, const char **errstr)
{
	struct http_server *srv = xcalloc(1, sizeof(*srv));
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	    MHD_USE_ITC;

	srv->hs = *hs;
	srv->quiesced_fd = -1;
	srv->fn = fn;
	srv->arg = arg;
	if (hs->tls_key_pem)
		flags |= MHD_USE_TLS;
	srv->d = MHD_start_daemon(flags, 0, NULL, NULL, access_handler, srv,
	    MHD_OPTION_LISTEN_SOCKET, hs->listen_fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(hs->threads > 1 ? hs->threads : 0),
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)hs->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)hs->max_connections_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)hs->connection_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)hs->connection_memory,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_log, srv,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, srv,
	    hs->tls_key_pem ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, hs->tls_key_pem,
	    MHD_OPTION_HTTPS_MEM_CERT, hs->tls_cert_pem,
	    MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
	    /* Client certificates are requested, never required: our code verifies them. */
	    hs->tls_trust_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, hs->tls_trust_pem,
	    MHD_OPTION_END);
	if (srv->d == NULL) {
		*errstr = "cannot start the HTTP server";
		free(srv);
		return NULL;
	}
	return srv;
}

int
http_stop_keep_socket(struct http_server *srv)
{
	MHD_socket fd = MHD_quiesce_daemon(srv->d);

	MHD_stop_daemon(srv->d);
	free(srv);
	return fd == MHD_INVALID_SOCKET ? -1 : fd;
}

int
http_drain(struct http_server *srv, int64_t timeout_ms)
{
	int64_t end = mono_us() + timeout_ms * 1000;
	MHD_socket fd;
	int n;

	if (srv == NULL)
		return 0;
	__atomic_store_n(&srv->closing, 1, __ATOMIC_SEQ_CST);
	/*
	 * The parent keeps its copy of the listener: connections wait in its backlog.  Ours
	 * is closed once MHD has stopped (its threads may still have it in their epoll sets).
	 */
	if (!srv->quiesced && (fd = MHD_quiesce_daemon(srv->d)) != MHD_INVALID_SOCKET)
		srv->quiesced_fd = fd;
	srv->quiesced = 1;
	while ((n = __atomic_load_n(&srv->inflight, __ATOMIC_SEQ_CST)) > 0 && mono_us() < end)
		usleep(20000);
	return n;
}

int
http_inflight(const struct http_server *srv)
{
	return srv ? __atomic_load_n(&srv->inflight, __ATOMIC_SEQ_CST) : 0;
}

void
http_stop(struct http_server *srv)
{
	if (srv == NULL)
		return;
	MHD_stop_daemon(srv->d);
	if (srv->quiesced_fd != -1)
		close(srv->quiesced_fd);
	free(srv);
}
