/*
 * A real HTTP server on 127.0.0.1 and a raw client for the tests of the HTTP layer.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_fixture.h"
#include "xmalloc.h"

#define RESP_MAX 65536

struct http_server *
http_fixture_start(http_handler_fn fn, int *port_r)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t len = sizeof(sa);
	struct http_settings hs = { .threads = 2, .max_connections = 64,
		.max_connections_per_ip = 64, .connection_timeout = 10,
		.connection_memory = 32768, .max_body = 65536 };
	const char *err = NULL;
	struct http_server *srv;

	if ((hs.listen_fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return NULL;
	if (bind(hs.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(hs.listen_fd, 8) == -1 ||
	    getsockname(hs.listen_fd, (struct sockaddr *)&sa, &len) == -1 ||
	    (srv = http_start(&hs, fn, NULL, &err)) == NULL) {
		close(hs.listen_fd);
		return NULL;
	}
	*port_r = ntohs(sa.sin_port);
	return srv;
}

static int
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
exchange(int port, const char *ctype, const char *body, size_t blen, char *out, size_t max)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001),
		.sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
	char *head = xasprintf("POST /u HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", ctype, blen);
	char *resp = xcalloc(1, RESP_MAX), *sep;
	size_t got = 0;
	ssize_t n;

	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    send_all(fd, head, strlen(head)) == 0 && send_all(fd, body, blen) == 0) {
		while (got < RESP_MAX - 1 && (n = read(fd, resp + got, RESP_MAX - 1 - got)) > 0)
			got += (size_t)n;
		if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
			status = -1;
	}
	/* Reset rather than linger in TIME_WAIT: a fuzzer's many connections would use up the
	 * ports of 127.0.0.1. */
	if (fd >= 0) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	}
	sep = strstr(resp, "\r\n\r\n");
	snprintf(out, max, "%s", sep ? sep + 4 : "");
	free(head);
	free(resp);
	return status;
}

/* With signals held back: a fuzzer's timer would interrupt connect, write and read. */
int
http_fixture_post(int port, const char *ctype, const char *body, size_t blen, char *out,
    size_t max)
{
	sigset_t all, old;
	int status;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	status = exchange(port, ctype, body, blen, out, max);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return status;
}
