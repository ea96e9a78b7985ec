/*
 * A small HTTPS load generator for the benchmarks: T threads, each with one keep-alive
 * TLS connection.  Closed loop (as fast as answers come) or open loop at a fixed total
 * rate, where latency counts from the scheduled send time so a stalled server is not
 * hidden (no coordinated omission).  Prints throughput and percentiles.  Modes:
 *   saml PATH COOKIE ISSUER DESTINATION    a fresh AuthnRequest (POST) per operation
 *   cc TOKEN_PATH BASIC                     an OAuth client_credentials grant
 *   code AUTHZ_PATH TOKEN_PATH COOKIE CLIENT_ID REDIRECT_URI BASIC
 *                                           authorize (with a session), then redeem the code
 *   api PATH KEYFILE                        GET PATH of the admin API, each call with the
 *                                           next key of KEYFILE (one per line) in turn
 *   scim PATH KEYFILE                       POST a new SCIM user to PATH, keys as for api
 *
 * usage: loadgen HOST PORT THREADS SECONDS RATE|0 MODE ARGS...
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#define MAX_SAMPLES 2000000

static const char *host, *path, *cookie, *issuer, *dest, *mode, *path2, *client, *redirect,
    *basic;
static int port, seconds;
static double rate;	/* per thread; 0: closed loop */
static _Atomic long ok_count, err_count;
static char **keys;
static long nkeys;
static _Atomic long key_turn;
static double *samples;
static _Atomic long nsamples;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static SSL *
connect_tls(SSL_CTX *ctx)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	SSL *ssl;

	inet_pton(AF_INET, host, &sa.sin_addr);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return NULL;
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	return ssl;
}

static void
close_tls(SSL *ssl)
{
	int fd = SSL_get_fd(ssl);

	SSL_free(ssl);
	close(fd);
}

/* Read one HTTP response (Content-Length framed); returns the status or -1. */
static int
read_response(SSL *ssl, char *buf, size_t size)
{
	size_t have = 0;
	char *hdr_end = NULL, *cl;
	long body = -1;

	for (;;) {
		int n = SSL_read(ssl, buf + have, (int)(size - have - 1));
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		if (hdr_end == NULL && (hdr_end = strstr(buf, "\r\n\r\n")) != NULL) {
			cl = strcasestr(buf, "\r\nContent-Length:");
			body = cl && cl < hdr_end ? strtol(cl + 17, NULL, 10) : 0;
		}
		if (hdr_end && (long)(have - (size_t)(hdr_end + 4 - buf)) >= body)
			return (int)strtol(buf + 9, NULL, 10);
		if (have + 1 >= size)
			return -1;
	}
}

static char *
authn_request(unsigned long seq, pthread_t self)
{
	char xml[1024], ts[32], *b64, *enc, *out;
	time_t t = time(NULL);
	struct tm tm;
	int n;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(xml, sizeof(xml),
	    "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
	    "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_bench%lx%lu\" "
	    "Version=\"2.0\" IssueInstant=\"%s\" Destination=\"%s\">"
	    "<saml:Issuer>%s</saml:Issuer></samlp:AuthnRequest>",
	    (unsigned long)self, seq, ts, dest, issuer);
	b64 = malloc(4 * ((size_t)n + 2) / 3 + 4);
	EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)xml, n);
	/* form-encode the base64: + / = */
	enc = malloc(strlen(b64) * 3 + 1);
	out = enc;
	for (char *p = b64; *p; p++) {
		if (*p == '+' || *p == '/' || *p == '=')
			out += snprintf(out, 4, "%%%02X", (unsigned char)*p);
		else
			*out++ = *p;
	}
	*out = '\0';
	free(b64);
	return enc;
}

/* One request/response on ssl; the status, or -1 when the connection broke. */
static int
exchange(SSL *ssl, const char *req, int n, char *resp)
{
	if (SSL_write(ssl, req, n) != n)
		return -1;
	return read_response(ssl, resp, 1 << 20);
}

static char pos_file[4096];

/* Runs one after another go on round the keys where the last one stopped (KEYFILE.pos). */
static void
key_position(const char *file, int save)
{
	FILE *fp;

	snprintf(pos_file, sizeof(pos_file), "%s.pos", file);
	if (save && (fp = fopen(pos_file, "w")) != NULL) {
		fprintf(fp, "%ld\n", key_turn % nkeys);
		fclose(fp);
	} else if (!save && (fp = fopen(pos_file, "r")) != NULL) {
		long v = 0;
		if (fscanf(fp, "%ld", &v) == 1 && v >= 0)
			key_turn = v;
		fclose(fp);
	}
}

/* The keys of KEYFILE, one per line; -1 when there are none. */
static int
load_keys(const char *file)
{
	char line[256];
	FILE *fp = fopen(file, "r");

	while (fp && fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line)
			continue;
		keys = realloc(keys, (size_t)(nkeys + 1) * sizeof(*keys));
		keys[nkeys++] = strdup(line);
	}
	if (fp)
		fclose(fp);
	return nkeys ? 0 : -1;
}

/* An admin API call (GET) or a SCIM user creation with the next key. */
static int
api_operation(SSL *ssl, char *resp, unsigned long seq)
{
	char req[4096], body[512];
	const char *key = keys[key_turn++ % nkeys];
	int n, status, blen;

	if (!strcmp(mode, "api")) {
		n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
		    "Authorization: Bearer %s\r\n\r\n", path, host, port, key);
		if ((status = exchange(ssl, req, n, resp)) < 0)
			return -1;
		return status == 200;
	}
	blen = snprintf(body, sizeof(body), "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:"
	    "2.0:User\"],\"userName\":\"b%lx-%lu\",\"active\":true,\"emails\":[{\"value\":"
	    "\"b%lx-%lu@bench.invalid\",\"primary\":true}]}", (unsigned long)pthread_self(), seq,
	    (unsigned long)pthread_self(), seq);
	n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "Authorization: Bearer %s\r\nContent-Type: application/scim+json\r\n"
	    "Content-Length: %d\r\n\r\n%s", path, host, port, key, blen, body);
	if ((status = exchange(ssl, req, n, resp)) < 0)
		return -1;
	return status == 201;
}

/* One operation of the mode; 1 ok, 0 wrong answer, -1 broken connection. */
static int
operation(SSL *ssl, char *resp, unsigned long seq)
{
	char req[16384], *body, *code, *end;
	int n, status;

	if (!strcmp(mode, "api") || !strcmp(mode, "scim"))
		return api_operation(ssl, resp, seq);

	if (!strcmp(mode, "saml")) {
		body = authn_request(seq, pthread_self());
		n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
		    "Cookie: sekisho_sid=%s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
		    "Content-Length: %zu\r\n\r\nSAMLRequest=%s", path, host, port, cookie,
		    strlen(body) + 12, body);
		free(body);
		if ((status = exchange(ssl, req, n, resp)) < 0)
			return -1;
		return status == 200 && strstr(resp, "SAMLResponse") != NULL;
	}
	if (!strcmp(mode, "cc")) {
		n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
		    "Authorization: Basic %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
		    "Content-Length: 29\r\n\r\ngrant_type=client_credentials", path, host, port,
		    basic);
		if ((status = exchange(ssl, req, n, resp)) < 0)
			return -1;
		return status == 200 && strstr(resp, "access_token") != NULL;
	}
	/* code: authorize with the session cookie, then redeem at the token endpoint */
	n = snprintf(req, sizeof(req), "GET %s?response_type=code&scope=openid&client_id=%s&"
	    "redirect_uri=%s&state=s%lu HTTP/1.1\r\nHost: %s:%d\r\nCookie: sekisho_sid=%s\r\n\r\n",
	    path, client, redirect, seq, host, port, cookie);
	if ((status = exchange(ssl, req, n, resp)) < 0)
		return -1;
	if (status != 303 || (code = strstr(resp, "code=")) == NULL)
		return 0;
	code += 5;
	end = code + strcspn(code, "&\r\n");
	body = NULL;
	n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "Authorization: Basic %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: %zu\r\n\r\ngrant_type=authorization_code&redirect_uri=%s&code=%.*s",
	    path2, host, port, basic, strlen("grant_type=authorization_code&redirect_uri=&code=") +
	    strlen(redirect) + (size_t)(end - code), redirect, (int)(end - code), code);
	if ((status = exchange(ssl, req, n, resp)) < 0)
		return -1;
	return status == 200 && strstr(resp, "id_token") != NULL;
}

static void *
run(void *arg)
{
	SSL_CTX *ctx = arg;
	SSL *ssl = connect_tls(ctx);
	char *resp = malloc(1 << 20);
	double start = now_s(), next = start, end = start + seconds;
	unsigned long seq = 0;

	while (ssl && now_s() < end) {
		double t0;
		int rc;

		if (rate > 0) {
			double wait = next - now_s();
			if (wait > 0)
				usleep((useconds_t)(wait * 1e6));
			t0 = next;
			next += 1.0 / rate;
		} else {
			t0 = now_s();
		}
		if ((rc = operation(ssl, resp, seq++)) < 0) {
			err_count++;
			close_tls(ssl);
			ssl = connect_tls(ctx);
			continue;
		}
		if (rc == 1)
			ok_count++;
		else
			err_count++;
		{
			long i = nsamples++;
			if (i < MAX_SAMPLES)
				samples[i] = now_s() - t0;
		}
	}
	if (ssl)
		close_tls(ssl);
	free(resp);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	pthread_t th[256];
	SSL_CTX *ctx;
	int threads;
	long n;

	if (argc < 8) {
		fprintf(stderr, "usage: loadgen HOST PORT THREADS SECONDS RATE|0 MODE ARGS...\n");
		return 2;
	}
	host = argv[1];
	port = (int)strtol(argv[2], NULL, 10);
	threads = (int)strtol(argv[3], NULL, 10);
	seconds = (int)strtol(argv[4], NULL, 10);
	rate = strtod(argv[5], NULL) / (threads > 0 ? threads : 1);
	mode = argv[6];
	if (!strcmp(mode, "saml") && argc == 11) {
		path = argv[7];
		cookie = argv[8];
		issuer = argv[9];
		dest = argv[10];
	} else if (!strcmp(mode, "cc") && argc == 9) {
		path = argv[7];
		basic = argv[8];
	} else if (!strcmp(mode, "code") && argc == 13) {
		path = argv[7];
		path2 = argv[8];
		cookie = argv[9];
		client = argv[10];
		redirect = argv[11];
		basic = argv[12];
	} else if ((!strcmp(mode, "api") || !strcmp(mode, "scim")) && argc == 9) {
		path = argv[7];
		if (load_keys(argv[8]) == -1) {
			fprintf(stderr, "loadgen: no keys in %s\n", argv[8]);
			return 2;
		}
		key_position(argv[8], 0);
	} else {
		fprintf(stderr, "loadgen: bad mode or arguments\n");
		return 2;
	}
	if (threads < 1 || threads > 256)
		return 2;
	samples = calloc(MAX_SAMPLES, sizeof(double));
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);	/* loopback benchmark only */
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, run, ctx);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	if (nkeys)
		key_position(argv[8], 1);
	n = nsamples < MAX_SAMPLES ? nsamples : MAX_SAMPLES;
	qsort(samples, (size_t)n, sizeof(double), cmp);
	printf("ok=%ld errors=%ld rate=%.1f/s p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms\n",
	    ok_count, err_count, ok_count / (double)seconds,
	    n ? samples[n / 2] * 1e3 : 0, n ? samples[n * 9 / 10] * 1e3 : 0,
	    n ? samples[n * 99 / 100] * 1e3 : 0, n ? samples[n - 1] * 1e3 : 0);
	return err_count > ok_count / 100 ? 1 : 0;
}
