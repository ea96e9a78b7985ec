/*
 * Audit forwarding.  Following the store rather than the writers catches the records of
 * every process (commands, the ca process) and only those that committed.  The position
 * in each trail is kept in the store, so forwarding resumes after a restart: at least
 * once (after a crash a record may come again; its seq tells).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "admin_audit.h"
#include "auditfwd.h"
#include "buf.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

#define BATCH 200
#define BATCHES_PER_RUN 20	/* then other trails get their turn */
#define MARK "forward"

struct auditfwd {
	const struct settings *s;
	int fd;			/* audit_file, -1 when not open */
	int sock;		/* datagrams to the syslog socket, -1 when not configured */
	int file_failing;	/* a failure is logged once until it works again */
	int syslog_failing;
};

struct batch {
	struct auditfwd *f;
	const char *tenant;
	struct buf lines;	/* JSON lines for the file */
	uint64_t last;
};

static int
open_file(struct auditfwd *f)
{
	if (f->fd != -1 || f->s->audit_file == NULL)
		return 0;
	f->fd = open(f->s->audit_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (f->fd == -1 && !f->file_failing++)
		log_error("audit_file %s: %s", f->s->audit_file, strerror(errno));
	return f->fd == -1 ? -1 : 0;
}

struct auditfwd *
auditfwd_open(const struct settings *s)
{
	struct auditfwd *f;

	if (s->audit_file == NULL && !s->audit_syslog)
		return NULL;
	f = xcalloc(1, sizeof(*f));
	f->s = s;
	f->fd = f->sock = -1;
	if (s->audit_syslog && (f->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		log_error("audit_syslog: socket: %s", strerror(errno));
	(void)open_file(f);
	return f;
}

void
auditfwd_close(struct auditfwd *f)
{
	if (f == NULL)
		return;
	if (f->fd != -1)
		close(f->fd);
	if (f->sock != -1)
		close(f->sock);
	free(f);
}

/* "<PRI>Mmm dd hh:mm:ss sekishod[pid]: " and the record as its log line has it. */
static void
send_syslog(struct auditfwd *f, const char *tenant, const struct audit_rec *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	time_t t = (time_t)r->time;
	char stamp[32];
	struct tm tm;
	struct buf m;

	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	buf_init(&m, 0);
	buf_printf(&m, "<%d>%s sekishod[%ld]: audit seq=%llu event=%s tenant=%s %s",
	    f->s->audit_syslog_code * 8 + 6, stamp, (long)getpid(), (unsigned long long)r->seq,
	    r->event, tenant, r->fields ? r->fields : "");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->s->audit_syslog_socket);
	if (sendto(f->sock, m.data, m.len, 0, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		if (!f->syslog_failing++)
			log_error("audit_syslog %s: %s", f->s->audit_syslog_socket, strerror(errno));
	} else {
		f->syslog_failing = 0;
	}
	buf_free(&m);
}

static void
one(const struct audit_rec *r, const struct audit_fields *kv, void *arg)
{
	struct batch *b = arg;
	json_t *o = admin_audit_json_flat(r, kv);
	char *line;

	json_object_set_new(o, "tenant", json_string(b->tenant));
	if ((line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL)
		buf_printf(&b->lines, "%s\n", line);
	free(line);
	json_decref(o);
	if (b->f->sock != -1)
		send_syslog(b->f, b->tenant, r);
	b->last = r->seq;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
rec_cb(const struct audit_rec *r, void *arg)
{
	struct audit_fields kv;

	if (audit_fields_parse(r->fields ? r->fields : "", &kv) == -1)
		memset(&kv, 0, sizeof(kv));	/* the raw text goes out as "fields" */
	one(r, &kv, arg);
	audit_fields_clear(&kv);
}

/* One batch after *mark; the mark moves once the file took it.  Records read, or -1. */
static int
forward_batch(struct auditfwd *f, struct store *st, const char *tenant, uint64_t *mark)
{
	struct batch b = { .f = f, .tenant = tenant, .last = *mark };
	int n;

	buf_init(&b.lines, 0);
	n = store_audit_range(st, tenant, *mark, BATCH, rec_cb, &b);
	if (n > 0 && f->s->audit_file) {
		if (open_file(f) == -1 || write_all(f->fd, b.lines.data, b.lines.len) == -1) {
			if (f->fd != -1 && !f->file_failing++)
				log_error("audit_file %s: %s", f->s->audit_file, strerror(errno));
			n = -1;
		} else {
			f->file_failing = 0;
		}
	}
	if (n > 0 && store_audit_mark_set(st, tenant, MARK, b.last) == 0)
		*mark = b.last;
	buf_free(&b.lines);
	return n;
}

/*
 * A trail seen for the first time starts at its head when forwarding itself is new (the
 * operator's trail has no mark either): no flood of history; else (a new tenant) at its
 * beginning.  A mark past the head (a restored older store) restarts at the head.
 */
static void
forward_trail(struct auditfwd *f, struct store *st, const char *tenant, int first)
{
	uint64_t head, mark;
	int rc, n = 1;

	if (store_audit_head(st, tenant, &head) == -1 ||
	    (rc = store_audit_mark_get(st, tenant, MARK, &mark)) == -1)
		return;
	if ((rc == 0 && first) || mark > head) {
		(void)store_audit_mark_set(st, tenant, MARK, head);
		return;
	}
	for (int i = 0; i < BATCHES_PER_RUN && mark < head && n > 0; i++)
		n = forward_batch(f, st, tenant, &mark);
}

void
auditfwd_run(struct auditfwd *f, struct store *st)
{
	uint64_t m;
	char **ids;
	int first;

	if (f == NULL || (first = store_audit_mark_get(st, STORE_OPERATOR, MARK, &m)) == -1)
		return;
	first = !first;
	if (store_tenant_ids(st, &ids) == -1)
		return;
	for (char **id = ids; *id; id++)
		forward_trail(f, st, *id, first);
	forward_trail(f, st, STORE_OPERATOR, first);	/* last: its mark says "not new" */
	store_strv_free(ids);
}
