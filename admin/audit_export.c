/*
 * The audit trail exported as JSON lines or CSV for the admin API and the console: a
 * stream that reads the filtered trail in batches as the client takes the bytes, so a
 * long trail is never held in memory at once.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_audit.h"
#include "xmalloc.h"

#define BATCH 500		/* records read per transaction */

struct admin_audit_export {
	struct admin adm;	/* a copy: the stream outlives the call */
	char *tenant;
	struct audit_filter f;
	char *event, *user, *app;
	int csv;
	uint64_t after;
	int end;
	struct buf out;		/* produced and not yet sent */
	size_t sent;
};

static void
export_rec(const struct audit_rec *r, const struct audit_fields *kv, void *arg)
{
	struct admin_audit_export *x = arg;
	json_t *o;
	char *line;

	if (x->csv) {
		admin_audit_csv(r, &x->out);
		return;
	}
	o = admin_audit_json(r, kv);
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	buf_printf(&x->out, "%s\n", line ? line : "{}");
	free(line);
	json_decref(o);
}

long
admin_audit_export_read(void *arg, char *buf, size_t max)
{
	struct admin_audit_export *x = arg;
	size_t n;

	while (x->sent == x->out.len && !x->end) {
		buf_reset(&x->out);
		x->sent = 0;
		int got = admin_audit_batch(&x->adm, &x->f, x->after, BATCH, export_rec, x,
		    &x->after);
		if (got < 0)
			return -1;
		x->end = got == 0;
	}
	if ((n = x->out.len - x->sent) == 0)
		return 0;	/* the end (an empty buffer may have no data at all) */
	if (n > max)
		n = max;
	memcpy(buf, x->out.data + x->sent, n);
	x->sent += n;
	return (long)n;
}

void
admin_audit_export_free(void *arg)
{
	struct admin_audit_export *x = arg;

	admin_audit_filter_free(&x->f);
	buf_free(&x->out);
	free(x->tenant);
	free(x->event);
	free(x->user);
	free(x->app);
	free(x);
}

static char *
strdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct admin_audit_export *
admin_audit_export_new(const struct admin *a, const struct audit_filter *f, int csv)
{
	struct admin_audit_export *x = xcalloc(1, sizeof(*x));

	x->adm = *a;
	x->adm.tenant = x->tenant = xstrdup(a->tenant);
	x->adm.actor = x->adm.sudo_user = x->adm.ip = NULL;
	x->f = *f;
	x->f.event = x->event = strdup_or_null(f->event);
	x->f.user = x->user = strdup_or_null(f->user);
	x->f.app = x->app = strdup_or_null(f->app);
	x->csv = csv;
	buf_init(&x->out, 0);
	if (csv)
		buf_puts(&x->out, ADMIN_AUDIT_CSV_HEADER);
	return x;
}
