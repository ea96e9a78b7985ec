/*
 * Unit tests for lib/mail.c against a small SMTP server run by the test on 127.0.0.1
 * (plain SMTP, smtp_tls none): headers, the RFC 2047 subject, CRLF lines and curl's
 * dot-stuffing as they arrive; addresses that could inject headers refused; the queue
 * drained by mail_stop; a full queue and a relay that is down or silent.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "encode.h"
#include "mail.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define FROM "sekisho@example.jp"
#define TO "taro@example.jp"

enum { SMTP_SPEAK, SMTP_SILENT };

/* The test's relay: speaks SMTP, or (SILENT) takes one connection and never answers. */
struct relay {
	int lfd, port, mode;
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int accepted, release;
	char relay[32];
	struct buf msgs[8];	/* DATA as received (unstuffed), raw line ends kept */
	char rcpt[8][128];
	int n;
};

/* One line with its terminator, at most max-1 bytes; 0 at end of stream. */
static size_t
read_line(int fd, char *out, size_t max)
{
	size_t n = 0;

	while (n + 1 < max && read(fd, out + n, 1) == 1)
		if (out[n++] == '\n')
			break;
	out[n] = '\0';
	return n;
}

static void
say(int fd, const char *s)
{
	ssize_t w = write(fd, s, strlen(s));

	(void)w;
}

static void
data(struct relay *r, int fd)
{
	char line[2048];
	struct buf *b = &r->msgs[r->n];

	buf_init(b, 0);
	say(fd, "354 go ahead\r\n");
	while (read_line(fd, line, sizeof(line)) > 0 && strcmp(line, ".\r\n") != 0)
		buf_puts(b, line[0] == '.' ? line + 1 : line);
}

static void
session(struct relay *r, int fd)
{
	char line[2048];

	say(fd, "220 relay.test ESMTP\r\n");
	while (read_line(fd, line, sizeof(line)) > 0) {
		if (!strncasecmp(line, "EHLO", 4) || !strncasecmp(line, "HELO", 4)) {
			say(fd, "250 relay.test\r\n");
		} else if (!strncasecmp(line, "RCPT TO:", 8)) {
			snprintf(r->rcpt[r->n], sizeof(r->rcpt[0]), "%.127s", line + 8);
			say(fd, "250 ok\r\n");
		} else if (!strncasecmp(line, "DATA", 4) && r->n < (int)NELEM(r->msgs)) {
			data(r, fd);
			pthread_mutex_lock(&r->lock);
			r->n++;
			pthread_mutex_unlock(&r->lock);
			say(fd, "250 queued\r\n");
		} else if (!strncasecmp(line, "QUIT", 4)) {
			say(fd, "221 bye\r\n");
			break;
		} else {
			say(fd, strncasecmp(line, "MAIL FROM:", 10) ? "500 what\r\n" : "250 ok\r\n");
		}
	}
}

static void *
relay_run(void *arg)
{
	struct relay *r = arg;
	int fd;

	while ((fd = accept(r->lfd, NULL, NULL)) >= 0) {
		if (r->mode == SMTP_SPEAK) {
			session(r, fd);
			close(fd);
			continue;
		}
		/* Silent: later connections are refused, this one is held until released. */
		pthread_mutex_lock(&r->lock);
		close(r->lfd);
		r->accepted = 1;
		pthread_cond_broadcast(&r->cond);
		while (!r->release)
			pthread_cond_wait(&r->cond, &r->lock);
		pthread_mutex_unlock(&r->lock);
		close(fd);
		break;
	}
	return NULL;
}

static struct relay *
relay_start(int mode)
{
	struct relay *r = calloc(1, sizeof(*r));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->mode = mode;
	r->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(r->lfd, 128), 0);
	assert_int_equal(getsockname(r->lfd, (struct sockaddr *)&sa, &len), 0);
	r->port = ntohs(sa.sin_port);
	snprintf(r->relay, sizeof(r->relay), "127.0.0.1:%d", r->port);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	assert_int_equal(pthread_create(&r->th, NULL, relay_run, r), 0);
	return r;
}

static void
relay_wait_accepted(struct relay *r)
{
	pthread_mutex_lock(&r->lock);
	while (!r->accepted)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
}

static void
relay_release(struct relay *r)
{
	pthread_mutex_lock(&r->lock);
	r->release = 1;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void
relay_stop(struct relay *r)
{
	pthread_mutex_lock(&r->lock);
	if (r->mode == SMTP_SPEAK || !r->accepted)
		shutdown(r->lfd, SHUT_RDWR);	/* wakes accept() */
	pthread_mutex_unlock(&r->lock);
	relay_release(r);
	pthread_join(r->th, NULL);
	if (r->mode == SMTP_SPEAK || !r->accepted)
		close(r->lfd);
	for (int i = 0; i < r->n; i++)
		buf_free(&r->msgs[i]);
	free(r);
}

static struct mail_conf
conf_for(const struct relay *r, long timeout)
{
	struct mail_conf c = { r->relay, FROM, "none", NULL, timeout };

	return c;
}

/* The decoded text of an RFC 2047 Subject header (unfolded), or NULL (caller frees). */
static char *
subject_text(const char *msg)
{
	const char *p = strstr(msg, "\r\nSubject:"), *end;
	struct buf out;

	if (p == NULL)
		return NULL;
	end = strstr(p + 2, "\r\n");
	while (end && end[2] == ' ')
		end = strstr(end + 2, "\r\n");
	buf_init(&out, 0);
	for (p = strstr(p, "=?UTF-8?B?"); p && p < end; p = strstr(p, "=?UTF-8?B?")) {
		const char *q = strstr(p + 10, "?=");
		size_t n;
		unsigned char *d;

		assert_true(q - p + 2 <= 75);
		d = b64_decode(p + 10, (size_t)(q - p - 10), 0, 1024, &n);
		assert_non_null(d);
		buf_append(&out, d, n);
		free(d);
		p = q + 2;
	}
	return buf_steal(&out, NULL);
}

static void
assert_crlf_only(const char *s)
{
	for (const char *p = s; *p; p++)
		if (*p == '\n')
			assert_true(p > s && p[-1] == '\r');
}

static void
test_mail_message(void **state)
{
	static const char subject[] = "パスワードの再設定のご案内 — Sekisho アカウント (テナント example)";
	struct relay *r = relay_start(SMTP_SPEAK);
	struct mail_conf c = conf_for(r, 10);
	struct mail_msg m = { TO, subject, "こんにちは\nline two\n.dot line\n..two dots\n\nend" };
	const char *err = "unset", *msg, *body;
	char *subj;

	(void)state;
	assert_int_equal(mail_send(&c, &m, &err), 0);
	assert_null(err);
	assert_int_equal(r->n, 1);
	assert_string_equal(r->rcpt[0], "<" TO ">\r\n");
	msg = r->msgs[0].data;
	assert_crlf_only(msg);
	assert_true(strncmp(msg, "Date: ", 6) == 0);
	assert_non_null(strstr(msg, "\r\nFrom: " FROM "\r\n"));
	assert_non_null(strstr(msg, "\r\nTo: " TO "\r\n"));
	assert_non_null(strstr(msg, "\r\nMessage-ID: <"));
	assert_non_null(strstr(msg, "@example.jp>\r\n"));
	assert_non_null(strstr(msg, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(msg, "\r\nContent-Type: text/plain; charset=UTF-8\r\n"));
	assert_non_null(strstr(msg, "\r\nContent-Transfer-Encoding: 8bit\r\n"));
	subj = subject_text(msg);
	assert_string_equal(subj, subject);
	free(subj);
	body = strstr(msg, "\r\n\r\n");
	assert_non_null(body);
	assert_string_equal(body + 4,
	    "こんにちは\r\nline two\r\n.dot line\r\n..two dots\r\n\r\nend\r\n");
	relay_stop(r);
}

static void
test_mail_ascii_subject(void **state)
{
	struct relay *r = relay_start(SMTP_SPEAK);
	struct mail_conf c = conf_for(r, 10);
	struct mail_msg m = { TO, "Password reset", "x" };
	const char *err;

	(void)state;
	assert_int_equal(mail_send(&c, &m, &err), 0);
	assert_non_null(strstr(r->msgs[0].data, "\r\nSubject: Password reset\r\n"));
	/* A subject with a line break is encoded, not a second header. */
	m.subject = "Hi\r\nBcc: eve@example.jp";
	assert_int_equal(mail_send(&c, &m, &err), 0);
	assert_null(strstr(r->msgs[1].data, "\r\nBcc:"));
	relay_stop(r);
}

static void
test_mail_address_refused(void **state)
{
	static const char *bad[] = {
		"taro@example.jp\r\nBcc: eve@example.jp", "taro@example.jp\n", "taro\r@example.jp",
		"taro yamada@example.jp", "<taro@example.jp>", "Taro <taro@example.jp>",
		"taro.example.jp", "@example.jp", "taro@", "", "a@b,c@d", NULL,
	};
	struct relay *r = relay_start(SMTP_SPEAK);
	struct mail_conf c = conf_for(r, 10);
	const char *err;
	size_t sent, failed;

	(void)state;
	for (size_t i = 0; i < NELEM(bad); i++) {
		struct mail_msg m = { bad[i], "s", "b" };

		assert_int_equal(mail_queue(&m), -1);	/* not started: and not an address */
		assert_int_equal(mail_send(&c, &m, &err), -1);
		assert_non_null(err);
	}
	assert_int_equal(mail_start(&c, &err), 0);
	for (size_t i = 0; i < NELEM(bad); i++) {
		struct mail_msg m = { bad[i], "s", "b" };

		assert_int_equal(mail_queue(&m), -1);
	}
	mail_stop();
	mail_counts(&sent, &failed);
	assert_int_equal(sent + failed, 0);
	assert_int_equal(r->n, 0);
	relay_stop(r);
}

static void
test_mail_queue_drained_by_stop(void **state)
{
	struct relay *r = relay_start(SMTP_SPEAK);
	struct mail_conf c = conf_for(r, 10);
	struct mail_msg m = { TO, "s", "b" };
	struct mail_conf none = { NULL, NULL, NULL, NULL, 0 };
	const char *err;
	size_t sent, failed;

	(void)state;
	assert_int_equal(mail_start(&none, &err), 0);	/* not configured: nothing queues */
	assert_int_equal(mail_queue(&m), -1);
	mail_stop();
	assert_int_equal(mail_start(&c, &err), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mail_queue(&m), 0);
	mail_stop();
	mail_counts(&sent, &failed);
	assert_int_equal(sent, 3);
	assert_int_equal(failed, 0);
	assert_int_equal(r->n, 3);
	assert_int_equal(mail_queue(&m), -1);		/* stopped */
	relay_stop(r);
}

static void
test_mail_queue_full_relay_down(void **state)
{
	struct relay *r = relay_start(SMTP_SILENT);
	struct mail_conf c = conf_for(r, 60);
	struct mail_msg m = { TO, "s", "b" };
	const char *err;
	size_t sent, failed;

	(void)state;
	assert_int_equal(mail_start(&c, &err), 0);
	assert_int_equal(mail_queue(&m), 0);
	relay_wait_accepted(r);		/* the sender holds that one: the queue is empty */
	for (int i = 0; i < 100; i++)
		assert_int_equal(mail_queue(&m), 0);
	assert_int_equal(mail_queue(&m), -1);
	relay_release(r);		/* that connection drops, the rest are refused */
	mail_stop();
	mail_counts(&sent, &failed);
	assert_int_equal(sent, 0);
	assert_int_equal(failed, 101);
	relay_stop(r);
}

static void
test_mail_silent_relay_times_out(void **state)
{
	struct relay *r = relay_start(SMTP_SILENT);
	struct mail_conf c = conf_for(r, 1);
	struct mail_msg m = { TO, "s", "b" };
	const char *err = NULL;

	(void)state;
	assert_int_equal(mail_send(&c, &m, &err), -1);
	assert_non_null(err);
	relay_stop(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail_message),
		cmocka_unit_test(test_mail_ascii_subject),
		cmocka_unit_test(test_mail_address_refused),
		cmocka_unit_test(test_mail_queue_drained_by_stop),
		cmocka_unit_test(test_mail_queue_full_relay_down),
		cmocka_unit_test(test_mail_silent_relay_times_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
