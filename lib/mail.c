/*
 * Outgoing mail over SMTP with libcurl, from one background thread fed by a bounded
 * queue.  We build the message (RFC 5322 headers, RFC 2047 subject, CRLF lines); curl
 * speaks SMTP, does STARTTLS or implicit TLS and dot-stuffs the body.
 */
#include "config.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "log.h"
#include "mail.h"
#include "xmalloc.h"

#define QUEUE_MAX 100
#define ADDR_MAX 254		/* RFC 5321's path limit less the brackets */
#define WORD_BYTES 45		/* UTF-8 bytes per encoded word: 60 base64 chars, <= 75 in all */
#define DEFAULT_TIMEOUT 20

struct qmsg {
	char *to, *subject, *body;
};

/* The sender thread's state; conf strings are our copies. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int running, stopping;
	struct mail_conf conf;
	struct qmsg q[QUEUE_MAX];
	size_t head, count, sent, failed;
} M = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/* A plain addr-spec: local@domain, printable ASCII or UTF-8, nothing that ends a header. */
static int
addr_ok(const char *a)
{
	const char *at;

	if (a == NULL || strlen(a) > ADDR_MAX || (at = strrchr(a, '@')) == NULL ||
	    at == a || at[1] == '\0')
		return 0;
	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		if (*p <= ' ' || *p == 0x7f || strchr("<>(),;:\\\"[]", *p) != NULL)
			return 0;
	return 1;
}

static const char *
domain_of(const char *a)
{
	const char *at = a ? strrchr(a, '@') : NULL;

	return at ? at + 1 : "?";
}

/* "Tue, 03 Dec 2024 08:40:32 +0000", without the locale's names. */
static void
date_header(struct buf *b)
{
	static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)clock_now();
	struct tm tm;

	gmtime_r(&t, &tm);
	buf_printf(b, "Date: %s, %02d %s %d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday],
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int
needs_encoding(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < ' ' || *p >= 0x7f)
			return 1;
	return strlen(s) > 60 || strstr(s, "=?") != NULL;
}

/* Subject as RFC 2047 encoded words, each whole UTF-8 characters, folded between. */
static void
subject_header(struct buf *b, const char *s)
{
	size_t len = strlen(s), off = 0;

	if (!needs_encoding(s)) {
		buf_printf(b, "Subject: %s\r\n", s);
		return;
	}
	buf_puts(b, "Subject:");
	while (off < len) {
		size_t n = len - off < WORD_BYTES ? len - off : WORD_BYTES, k = n;
		char *enc;

		while (k > 0 && k < len - off && ((unsigned char)s[off + k] & 0xc0) == 0x80)
			k--;	/* do not split a character (unless it is no character) */
		if (k > 0)
			n = k;
		enc = b64_encode(s + off, n);
		buf_printf(b, "%s=?UTF-8?B?%s?=", off ? "\r\n " : " ", enc);
		free(enc);
		off += n;
	}
	buf_puts(b, "\r\n");
}

/* Body lines end in CRLF; a bare CR is dropped; the last line is terminated. */
static void
body_crlf(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			buf_puts(b, "\r\n");
		else if (*s != '\r')
			buf_putc(b, *s);
	}
	if (b->len < 2 || memcmp(b->data + b->len - 2, "\r\n", 2) != 0)
		buf_puts(b, "\r\n");
}

/* The whole message, headers and body (caller frees). */
static char *
message(const struct mail_conf *c, const struct mail_msg *m, size_t *len_r)
{
	unsigned char rnd[16];
	char id[33];
	struct buf b;

	crypto_random(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), id);
	buf_init(&b, 0);
	date_header(&b);
	buf_printf(&b, "From: %s\r\nTo: %s\r\n", c->from, m->to);
	subject_header(&b, m->subject ? m->subject : "");
	buf_printf(&b, "Message-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
	    id, domain_of(c->from));
	body_crlf(&b, m->body ? m->body : "");
	return buf_steal(&b, len_r);
}

/* The message as curl reads it. */
struct reader {
	const char *p;
	size_t left;
};

static size_t
read_cb(char *out, size_t size, size_t n, void *arg)
{
	struct reader *r = arg;
	size_t k = size * n < r->left ? size * n : r->left;

	memcpy(out, r->p, k);
	r->p += k;
	r->left -= k;
	return k;
}

/* Set up c for one message to m->to; rcpt and url are the caller's to free. */
static void
curl_setup(CURL *c, const struct mail_conf *conf, const struct mail_msg *m,
    struct curl_slist **rcpt, char **url, struct reader *r)
{
	long t = conf->timeout > 0 ? conf->timeout : DEFAULT_TIMEOUT;
	char *from = xasprintf("<%s>", conf->from), *to = xasprintf("<%s>", m->to);
	int implicit = conf->tls && strcmp(conf->tls, "tls") == 0;

	*url = xasprintf("%s://%s", implicit ? "smtps" : "smtp", conf->relay);
	*rcpt = curl_slist_append(NULL, to);
	curl_easy_setopt(c, CURLOPT_URL, *url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	if (conf->tls == NULL || strcmp(conf->tls, "starttls") == 0)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (conf->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, conf->ca_file);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, *rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, r);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, t);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, t);
	free(from);	/* curl copies string options */
	free(to);
}

/* One delivery; failures are logged with the recipient's domain only. */
static int
deliver(const struct mail_conf *conf, const struct mail_msg *m)
{
	CURL *c = curl_easy_init();
	struct curl_slist *rcpt = NULL;
	struct reader r;
	char *url = NULL, *msg;
	long code = 0;
	CURLcode rc;

	if (c == NULL)
		return -1;
	msg = message(conf, m, &r.left);
	r.p = msg;
	curl_setup(c, conf, m, &rcpt, &url, &r);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK)
		log_warn("mail to a recipient at %s failed: %s (SMTP %ld)", domain_of(m->to),
		    curl_easy_strerror(rc), code);
	curl_easy_cleanup(c);
	curl_slist_free_all(rcpt);
	free(url);
	freezero_str(msg);	/* it may hold a reset link */
	return rc == CURLE_OK ? 0 : -1;
}

int
mail_send(const struct mail_conf *conf, const struct mail_msg *m, const char **errstr)
{
	*errstr = NULL;
	if (conf == NULL || conf->relay == NULL || conf->from == NULL)
		*errstr = "mail is not configured";
	else if (m == NULL || !addr_ok(m->to))
		*errstr = "not a plain e-mail address";
	else if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		*errstr = "libcurl did not initialise";
	if (*errstr)
		return -1;
	if (deliver(conf, m) == -1)
		*errstr = "the mail relay did not take the message";
	curl_global_cleanup();
	return *errstr ? -1 : 0;
}

static void
qmsg_free(struct qmsg *q)
{
	free(q->to);
	free(q->subject);
	freezero_str(q->body);
	memset(q, 0, sizeof(*q));
}

static void *
run(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&M.lock);
	for (;;) {
		struct qmsg q;
		struct mail_msg m;
		int rc;

		while (M.count == 0 && !M.stopping)
			pthread_cond_wait(&M.cond, &M.lock);
		if (M.count == 0)
			break;
		q = M.q[M.head];
		M.head = (M.head + 1) % QUEUE_MAX;
		M.count--;
		pthread_mutex_unlock(&M.lock);
		m = (struct mail_msg){ q.to, q.subject, q.body };
		rc = deliver(&M.conf, &m);
		qmsg_free(&q);
		pthread_mutex_lock(&M.lock);
		if (rc == 0)
			M.sent++;
		else
			M.failed++;
	}
	pthread_mutex_unlock(&M.lock);
	return NULL;
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void
conf_free(struct mail_conf *c)
{
	free((char *)c->relay);
	free((char *)c->from);
	free((char *)c->tls);
	free((char *)c->ca_file);
	memset(c, 0, sizeof(*c));
}

int
mail_start(const struct mail_conf *conf, const char **errstr)
{
	*errstr = NULL;
	if (M.running)
		*errstr = "mail is already started";
	else if (conf->relay && (conf->from == NULL || !addr_ok(conf->from)))
		*errstr = "the sender is not a plain e-mail address";
	if (*errstr || conf->relay == NULL)
		return *errstr ? -1 : 0;	/* no relay: mail_queue refuses, nothing runs */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		*errstr = "libcurl did not initialise";
		return -1;
	}
	M.conf = (struct mail_conf){ xstrdup(conf->relay), xstrdup(conf->from),
	    dup_or_null(conf->tls), dup_or_null(conf->ca_file), conf->timeout };
	M.stopping = 0;
	M.sent = M.failed = 0;
	if (pthread_create(&M.thread, NULL, run, NULL) != 0) {
		conf_free(&M.conf);
		*errstr = "cannot start the mail thread";
		return -1;
	}
	M.running = 1;
	return 0;
}

void
mail_stop(void)
{
	if (!M.running)
		return;
	pthread_mutex_lock(&M.lock);
	M.stopping = 1;
	pthread_cond_signal(&M.cond);
	pthread_mutex_unlock(&M.lock);
	pthread_join(M.thread, NULL);
	M.running = 0;
	conf_free(&M.conf);
	curl_global_cleanup();
}

int
mail_queue(const struct mail_msg *m)
{
	int rc = -1;

	if (m == NULL || !addr_ok(m->to))
		return -1;
	pthread_mutex_lock(&M.lock);
	if (M.running && !M.stopping && M.count < QUEUE_MAX) {
		M.q[(M.head + M.count) % QUEUE_MAX] = (struct qmsg){ xstrdup(m->to),
		    dup_or_null(m->subject), dup_or_null(m->body) };
		M.count++;
		pthread_cond_signal(&M.cond);
		rc = 0;
	} else if (M.running && M.count >= QUEUE_MAX) {
		log_warn("mail queue full: a message to a recipient at %s was dropped",
		    domain_of(m->to));
	}
	pthread_mutex_unlock(&M.lock);
	return rc;
}

void
mail_counts(size_t *sent_r, size_t *failed_r)
{
	pthread_mutex_lock(&M.lock);
	*sent_r = M.sent;
	*failed_r = M.failed;
	pthread_mutex_unlock(&M.lock);
}
