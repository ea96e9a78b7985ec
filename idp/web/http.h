/*
 * HTTP(S) on libmicrohttpd: thread pool, connection and memory limits, body caps, and a
 * request/response interface in our own terms for the route handlers.  Every response
 * carries the security headers; handlers only add what is specific to them.
 */
#ifndef SEKISHO_HTTP_H
#define SEKISHO_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "form.h"
#include "ipnet.h"

struct http_req;
struct http_server;

struct http_settings {
	int listen_fd;		/* bound and listening; the server takes ownership */
	int threads;
	int64_t max_connections;
	int64_t max_connections_per_ip;
	int64_t connection_timeout;	/* seconds */
	int64_t connection_memory;	/* bytes: request line + headers */
	int64_t max_body;		/* bytes */
	const char *tls_key_pem;	/* NULL: plain HTTP (behind a TLS-terminating proxy) */
	const char *tls_cert_pem;
	const char *tls_trust_pem;	/* CA certificates: ask for a client certificate */
	int hsts;
	/* proxies whose X-Forwarded-For / Forwarded name the client (NULL: none) */
	const struct ipnet_list *trusted_proxies;
};

typedef void (*http_handler_fn)(struct http_req *req, void *arg);

struct http_server *http_start(const struct http_settings *hs, http_handler_fn fn, void *arg,
    const char **errstr);
void http_stop(struct http_server *srv);
/*
 * Stop accepting (this process's copy of the listener is closed) and wait up to
 * timeout_ms for the requests in flight to be answered; their connections close after
 * the answer.  Returns how many were still running.  http_stop afterwards.
 */
int http_drain(struct http_server *srv, int64_t timeout_ms);
/* Requests begun and not yet completed. */
int http_inflight(const struct http_server *srv);
/* Stop but keep the listening socket open (returned, or -1), to start again on it. */
int http_stop_keep_socket(struct http_server *srv);

/* ---- request ---- */
const char *http_method(const struct http_req *req);
/* The path as received, without query; never contains '%', "//" or dot segments. */
const char *http_path(const struct http_req *req);
/* The raw query string after '?' exactly as received ("" when none). */
const char *http_raw_query(const struct http_req *req);
const struct form *http_query(const struct http_req *req);
/* Parsed urlencoded POST body (empty when the body is not a form). */
const struct form *http_form(const struct http_req *req);
const struct buf *http_body(const struct http_req *req);
/*
 * Why the query or the form body could not be parsed (duplicated or malformed
 * parameters), or NULL.  Such a request reaches the handler with both left empty, so it
 * can answer with a page and an audit record.
 */
const char *http_input_error(const struct http_req *req);

/* What a route that takes one file accepts in a multipart/form-data body. */
struct http_upload {
	const char *const *fields;	/* the text fields' names (NULL-terminated) */
	const char *file;		/* the file part's name */
	size_t file_max;		/* bytes; a longer file arrives cut at file_max + 1 */
	size_t field_max;		/* bytes of each text field */
};

/* The file of a multipart body (http_upload), borrowed for the request. */
struct http_file {
	const char *name;		/* the part's name (upload->file) */
	const char *filename;		/* as the client named it, maybe "" */
	const char *content_type;	/* as declared, or NULL */
	const unsigned char *data;
	size_t len;
};

/*
 * Parse a POST's multipart/form-data body with libmicrohttpd's post processor: its text
 * fields into http_form, its file (when one was chosen) for http_file.  A body of another
 * type is left alone.  0; -1 with *errstr for a person (no boundary, cut short, a part
 * not expected, a second file, too many parts, a field too long), the form left empty.
 * Only routes that take a file call it: elsewhere a multipart body is no form.
 */
int http_upload_parse(struct http_req *req, const struct http_upload *up, const char **errstr);
/* 1 when the request's body is multipart/form-data. */
int http_is_multipart(const struct http_req *req);
/* The file http_upload_parse found, or NULL when none was sent (or the file was empty). */
const struct http_file *http_file(const struct http_req *req);
const char *http_header(const struct http_req *req, const char *name);
/* A cookie's value, borrowed; NULL when absent or sent twice. */
const char *http_cookie(const struct http_req *req, const char *name);
/*
 * The client's numeric address: the TCP peer, or behind a trusted proxy the address its
 * forwarding header names (lib/forwarded.h).  Policies, audit and counters use this one.
 */
const char *http_client_ip(const struct http_req *req);
/* The TCP peer itself (to decide whether a proxy may speak for the client). */
const char *http_peer_ip(const struct http_req *req);
/*
 * The DER certificate the TLS client presented (borrowed, valid during the request), or
 * NULL.  Nothing about it is verified: that is the caller's job.
 */
const unsigned char *http_peer_cert(const struct http_req *req, size_t *len_r);
/* Per-request scratch owned by the handler layer (freed with the request). */
void http_set_data(struct http_req *req, void *data, void (*free_fn)(void *));
void *http_get_data(const struct http_req *req);

/* ---- response ---- */
void http_status(struct http_req *req, int status);
int http_get_status(const struct http_req *req);
void http_add_header(struct http_req *req, const char *name, const char *value);
/* Replace the default Content-Security-Policy. */
void http_set_csp(struct http_req *req, const char *csp);
/* Takes ownership of data (malloc'd). */
void http_body_take(struct http_req *req, const char *content_type, char *data, size_t len);
void http_body_copy(struct http_req *req, const char *content_type, const void *data, size_t len);
/*
 * A body produced in pieces after the handler returns: fn fills at most max bytes of buf
 * and returns how many, 0 at the end, -1 to abort the response.  free_fn(arg) runs when
 * the request is done.  fn runs on the server's thread after the handler: it must not
 * use anything the handler releases.
 */
typedef long (*http_stream_fn)(void *arg, char *buf, size_t max);
void http_body_stream(struct http_req *req, const char *content_type, http_stream_fn fn,
    void *arg, void (*free_fn)(void *));
/* 303 See Other to url (absolute or path). */
void http_redirect(struct http_req *req, const char *url);

#define HTTP_COOKIE_SESSION 0	/* no Max-Age */
/* Secure; HttpOnly; SameSite=Lax always; max_age < 0 deletes. */
void http_set_cookie(struct http_req *req, const char *name, const char *value, const char *path,
    int64_t max_age);

#endif
