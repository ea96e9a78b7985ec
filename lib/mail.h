/*
 * Outgoing mail (password resets, recovery-code use) through an SMTP relay with libcurl:
 * STARTTLS, implicit TLS or none; messages UTF-8 (RFC 2047 subject, 8bit body).  Mail
 * goes out from a background thread, so a request that mails takes as long as one that
 * does not (no account-existence oracle) and a slow relay holds no request.
 */
#ifndef SEKISHO_MAIL_H
#define SEKISHO_MAIL_H

#include <stddef.h>

struct mail_conf {
	const char *relay;	/* "host:port"; NULL: mail is not configured (nothing sent) */
	const char *from;	/* envelope and From: address */
	const char *tls;	/* "starttls" (default), "tls", "none" */
	const char *ca_file;	/* trust anchors for the relay; NULL: the system's */
	long timeout;		/* seconds per message */
};

struct mail_msg {
	const char *to;
	const char *subject;	/* UTF-8 */
	const char *body;	/* UTF-8 text, LF line ends */
};

/* Start the sender thread (copies conf); 0 or -1 *errstr. */
int mail_start(const struct mail_conf *conf, const char **errstr);
/* Stop it after sending what is queued (at most timeout per message). */
void mail_stop(void);
/*
 * Queue a message (copied); 0, or -1 when mail is not configured, the address is not a
 * plain addr-spec without CR/LF, or the queue (100 messages) is full.  Failures to
 * deliver are logged with the recipient's domain only.
 */
int mail_queue(const struct mail_msg *m);
/* Send now, in this thread (the sekisho command); 0 or -1 *errstr. */
int mail_send(const struct mail_conf *conf, const struct mail_msg *m, const char **errstr);
/* Tests: how many messages were sent and failed since start. */
void mail_counts(size_t *sent_r, size_t *failed_r);

#endif
