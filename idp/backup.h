/*
 * Backups of a Sekisho directory's store: the daily generation sekishod makes online at
 * backup_time (verified before it counts), and the restore of a backup into a directory
 * whose server is stopped.  The key files are not copied (see backup.c).
 */
#ifndef SEKISHO_BACKUP_H
#define SEKISHO_BACKUP_H

#include <stdint.h>

#include "buf.h"
#include "settings.h"

struct instance;

/*
 * Check a copy of the store (path: the directory holding data.mdb): it opens read-only
 * with a known schema, the operator's and every tenant's audit chain is intact, and every
 * tenant secret opens with in's master key.  The number of tenants into *tenants_r
 * (may be NULL).  0, or -1 with a message line in err.
 */
int backup_verify(struct instance *in, const char *path, int *tenants_r, struct buf *err);

/*
 * Make a generation now: backup_dir/YYYYMMDDTHHMMSSZ (UTC), verified, then named, LAST
 * updated and generations beyond backup_keep removed; the result is audited in the
 * operator's trail and logged.  0 or -1 (nothing half-made is left).
 */
int backup_run(struct instance *in, int64_t now);

/* The time of the latest backup_time at or before now, in the server's local time. */
int64_t backup_slot(const char *hhmm, int64_t now);
/* The time of the last good generation (backup_dir/LAST), 0 when there is none. */
int64_t backup_last(const struct settings *s);
/* 1 when a backup is due: backup_time is set and last is before its latest slot. */
int backup_due(const struct settings *s, int64_t last, int64_t now);

/*
 * Replace in's store (DIR/data, not open: in was loaded without it) with the backup at
 * from, after verifying it; refused while any process has DIR's store open.  The old data
 * is kept as DIR/data.before-restore-STAMP (its path into *kept_r, NULL when there was
 * none; caller frees).  0, or -1 with a message in err and nothing changed.
 */
int backup_restore(struct instance *in, const char *from, char **kept_r, struct buf *err);

#endif
