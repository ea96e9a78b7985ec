/*
 * A real libmicrohttpd server (idp/web/http.c) on 127.0.0.1 for tests that need the HTTP
 * layer itself, and a client sending one raw request per connection.
 */
#ifndef SEKISHO_HTTP_FIXTURE_H
#define SEKISHO_HTTP_FIXTURE_H

#include <stddef.h>

#include "http.h"

/* Start a server answering with fn on a free port (*port_r): NULL on failure. */
struct http_server *http_fixture_start(http_handler_fn fn, int *port_r);
/*
 * POST body (blen bytes) of type ctype to port; the response's body (NUL-terminated,
 * cut to max) into out: its status, or -1 when the exchange failed.
 */
int http_fixture_post(int port, const char *ctype, const char *body, size_t blen, char *out,
    size_t max);

#endif
