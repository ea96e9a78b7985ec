/*
 * Backups: sekishod's daily generation and sekisho restore.  The key files (master.key,
 * ca.key) are not copied into backup_dir: they never change after init, the worker cannot
 * read ca.key (privilege separation), and a store copy without them reveals no key or
 * tenant secret (all sealed).  They are backed up once, apart; restore checks the master key.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "backup.h"
#include "clock.h"
#include "instance.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

#define STAMP_LEN 16	/* YYYYMMDDTHHMMSSZ */

static void
stamp(int64_t now, char out[STAMP_LEN + 1])
{
	time_t t = (time_t)now;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, STAMP_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

/* A generation's name, as stamp writes it (other entries of backup_dir are left alone). */
static int
is_generation(const char *name)
{
	return strlen(name) == STAMP_LEN && strspn(name, "0123456789") == 8 && name[8] == 'T' &&
	    strspn(name + 9, "0123456789") == 6 && name[15] == 'Z';
}

/* Remove a copy made by store_backup: only the files LMDB puts there. */
static void
remove_copy(const char *path)
{
	char *f = xasprintf("%s/data.mdb", path), *l = xasprintf("%s/lock.mdb", path);

	(void)unlink(f);
	(void)unlink(l);
	if (rmdir(path) == -1 && errno != ENOENT)
		log_warn("cannot remove %s: %s", path, strerror(errno));
	free(f);
	free(l);
}

static void
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd != -1) {
		(void)fsync(fd);
		close(fd);
	}
}

static int
verify_trail(struct store *st, const char *tenant, const char *path, struct buf *err)
{
	const char *e;
	uint64_t bad;

	if (store_audit_verify(st, tenant, &bad, &e) == 0)
		return 0;
	buf_printf(err, "%s: the audit trail of %s does not verify: %s (record %llu)\n", path,
	    tenant, e, (unsigned long long)bad);
	return -1;
}

/* The tenant's secret opens with in's master key: the backup belongs to this directory. */
static int
verify_secret(struct instance *in, struct store *st, const char *id, const char *path,
    struct buf *err)
{
	struct tenant t;
	unsigned char k[32];
	int rc = -1;

	if (store_tenant_get(st, id, &t) != 1) {
		buf_printf(err, "%s: tenant %s does not read\n", path, id);
		return -1;
	}
	if (tenant_derive_key(in, &t, "backup-check", k) == 0)
		rc = 0;
	else
		buf_printf(err, "%s: the secret of tenant %s does not open with the master key of "
		    "%s (a backup of another directory, or another master.key)\n", path, id,
		    in->dir);
	explicit_bzero(k, sizeof(k));
	store_tenant_clear(&t);
	return rc;
}

static int
verify_store(struct instance *in, struct store *st, const char *path, int *tenants_r,
    struct buf *err)
{
	char **ids;
	int n = 0, rc = 0;

	if (store_tenant_ids(st, &ids) == -1) {
		buf_printf(err, "%s: the tenants do not read\n", path);
		return -1;
	}
	if (verify_trail(st, STORE_OPERATOR, path, err) == -1)
		rc = -1;
	for (char **id = ids; *id && rc == 0; id++, n++)
		if (verify_trail(st, *id, path, err) == -1 ||
		    verify_secret(in, st, *id, path, err) == -1)
			rc = -1;
	store_strv_free(ids);
	if (tenants_r)
		*tenants_r = n;
	return rc;
}

int
backup_verify(struct instance *in, const char *path, int *tenants_r, struct buf *err)
{
	const char *e;
	struct store *st = store_open_copy(path, &e);
	int rc;

	if (st == NULL) {
		buf_printf(err, "%s: %s\n", path, e);
		return -1;
	}
	rc = verify_store(in, st, path, tenants_r, err);
	store_close(st);
	return rc;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Remove the oldest generations beyond keep (names sort by time). */
static void
prune(const char *dir, int64_t keep)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (is_generation(de->d_name)) {
			names = xreallocarray(names, n + 1, sizeof(*names));
			names[n++] = xstrdup(de->d_name);
		}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		if ((int64_t)(n - i) > keep) {
			char *path = xasprintf("%s/%s", dir, names[i]);
			remove_copy(path);
			log_info("backup %s removed (backup_keep %lld)", names[i], (long long)keep);
			free(path);
		}
		free(names[i]);
	}
	free(names);
}

/* backup_dir/LAST: "TIME NAME" of the last good generation, replaced atomically. */
static int
write_last(const char *dir, const char *name, int64_t now)
{
	char *tmp = xasprintf("%s/.LAST.tmp", dir), *path = xasprintf("%s/LAST", dir);
	FILE *fp = fopen(tmp, "w");
	int rc = -1;

	if (fp != NULL) {
		fprintf(fp, "%lld %s\n", (long long)now, name);
		if (fflush(fp) == 0 && fsync(fileno(fp)) == 0 && fclose(fp) == 0)
			rc = rename(tmp, path);
		else
			(void)fclose(fp);
	}
	if (rc == -1)
		log_error("cannot write %s: %s", path, strerror(errno));
	free(tmp);
	free(path);
	return rc;
}

int64_t
backup_last(const struct settings *s)
{
	char *path = xasprintf("%s/LAST", s->backup_dir);
	FILE *fp = fopen(path, "r");
	long long t = 0;

	free(path);
	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%lld", &t) != 1 || t < 0)
		t = 0;
	fclose(fp);
	return t;
}

/* Copy the store into a hidden directory, verify it, then give it its name. */
static int
make_generation(struct instance *in, const char *name, int *tenants_r, struct buf *err)
{
	const char *dir = in->settings.backup_dir, *e;
	char *tmp = xasprintf("%s/.%s.tmp", dir, name), *final = xasprintf("%s/%s", dir, name);
	int rc = -1;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		buf_printf(err, "cannot create %s: %s", dir, strerror(errno));
	else if (remove_copy(tmp), store_backup(in->store, tmp, &e) == -1)
		buf_printf(err, "%s: %s", tmp, e);
	else if (backup_verify(in, tmp, tenants_r, err) == 0 && rename(tmp, final) == 0)
		rc = 0;
	else if (err->len == 0)
		buf_printf(err, "cannot rename %s: %s", tmp, strerror(errno));
	if (rc == -1)
		remove_copy(tmp);
	else
		fsync_dir(dir);
	free(tmp);
	free(final);
	return rc;
}

int
backup_run(struct instance *in, int64_t now)
{
	char name[STAMP_LEN + 1], n[16];
	struct buf err;
	int tenants = 0, rc;

	stamp(now, name);
	buf_init(&err, 0);
	rc = make_generation(in, name, &tenants, &err);
	if (rc == 0) {
		snprintf(n, sizeof(n), "%d", tenants);
		(void)write_last(in->settings.backup_dir, name, now);
		prune(in->settings.backup_dir, in->settings.backup_keep);
		audit_event(in->store, STORE_OPERATOR, "backup.ok", "name", name, "tenants", n,
		    NULL);
	} else {
		while (err.len > 0 && err.data[err.len - 1] == '\n')
			err.data[--err.len] = '\0';
		log_error("backup %s failed: %s", name, err.data);
		audit_event(in->store, STORE_OPERATOR, "backup.fail", "name", name, "reason",
		    err.data, NULL);
	}
	buf_free(&err);
	return rc;
}

/* hhmm on the day back days before t's, in local time. */
static time_t
day_at(time_t t, int back, const char *hhmm)
{
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_mday -= back;
	tm.tm_hour = (hhmm[0] - '0') * 10 + (hhmm[1] - '0');
	tm.tm_min = (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

int64_t
backup_slot(const char *hhmm, int64_t now)
{
	time_t slot = day_at((time_t)now, 0, hhmm);

	return (int64_t)(slot > (time_t)now ? day_at((time_t)now, 1, hhmm) : slot);
}

int
backup_due(const struct settings *s, int64_t last, int64_t now)
{
	return s->backup_time != NULL && last < backup_slot(s->backup_time, now);
}

/* The restored copy gets the owner of what it replaces: the worker opens it as its user. */
static void
match_owner(const char *ref, const char *path)
{
	char *f = xasprintf("%s/data.mdb", path);
	struct stat sb;

	if (geteuid() == 0 && stat(ref, &sb) == 0 &&
	    (chown(path, sb.st_uid, sb.st_gid) == -1 || chown(f, sb.st_uid, sb.st_gid) == -1))
		log_warn("cannot give %s the owner of %s: %s", path, ref, strerror(errno));
	free(f);
}

/* Verify from, then copy it beside DIR/data and swap the two directories. */
static int
restore_copy(struct instance *in, const char *from, char **kept_r, struct buf *err)
{
	char *data = xasprintf("%s/data", in->dir), *tmp = xasprintf("%s/data.restoring", in->dir);
	char name[STAMP_LEN + 1];
	struct store *src;
	struct stat sb;
	const char *e;
	int rc = -1;

	if ((src = store_open_copy(from, &e)) == NULL) {
		buf_printf(err, "%s: %s\n", from, e);
		goto done;
	}
	if (verify_store(in, src, from, NULL, err) == -1)
		goto done;
	remove_copy(tmp);
	if (store_backup(src, tmp, &e) == -1) {
		buf_printf(err, "%s: %s\n", tmp, e);
		goto done;
	}
	match_owner(stat(data, &sb) == 0 ? data : in->dir, tmp);
	stamp(clock_now(), name);
	if (stat(data, &sb) == 0) {
		*kept_r = xasprintf("%s/data.before-restore-%s", in->dir, name);
		if (rename(data, *kept_r) == -1) {
			buf_printf(err, "cannot move %s aside: %s\n", data, strerror(errno));
			remove_copy(tmp);
			goto done;
		}
	}
	if (rename(tmp, data) == -1) {
		buf_printf(err, "cannot rename %s: %s\n", tmp, strerror(errno));
		if (*kept_r)
			(void)rename(*kept_r, data);
		goto done;
	}
	fsync_dir(in->dir);
	rc = 0;
done:
	store_close(src);
	free(data);
	free(tmp);
	return rc;
}

int
backup_restore(struct instance *in, const char *from, char **kept_r, struct buf *err)
{
	long pid;
	int fd, busy = store_in_use(in->dir, 1, &fd, &pid), rc;

	*kept_r = NULL;
	if (busy == 1 && pid > 0) {
		buf_printf(err, "%s is in use: process %ld has its store open (stop sekishod and "
		    "every sekisho command on it first)\n", in->dir, pid);
		return -1;
	}
	if (busy != 0) {
		buf_printf(err, "cannot tell whether %s is in use (its data/lock.mdb does not "
		    "lock)\n", in->dir);
		return -1;
	}
	rc = restore_copy(in, from, kept_r, err);
	if (rc == -1) {
		free(*kept_r);
		*kept_r = NULL;
	}
	if (fd != -1)
		close(fd);
	return rc;
}
