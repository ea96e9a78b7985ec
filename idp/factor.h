/*
 * What second factors and password resets mean to Sekisho, shared by the server and the
 * sekisho command: TOTP seeds sealed with the master key, recovery codes kept as hashes,
 * reset tokens that only their link holds, and the mails that go with them.
 */
#ifndef SEKISHO_FACTOR_H
#define SEKISHO_FACTOR_H

#include <stdint.h>

#include "instance.h"
#include "mail.h"
#include "store.h"

#define FACTOR_LABEL_MAX 64		/* characters */
#define RECOVERY_CODE_LEN 19		/* "xxxx-xxxx-xxxx-xxxx": 16 base32 digits, 80 bits */
#define RESET_TOKEN_LIFETIME 1800	/* seconds */

/*
 * A new TOTP factor for u: a random seed sealed with the master key (associated data
 * "totp:TENANT:USER-ID:FACTOR-ID"), stored pending (enrolment on the account page, until
 * a code confirms it) or active (an admin's hardware token).  *uri_r is the otpauth URI
 * (issuer "Sekisho TENANT", account u->name); *secret_b32_r the seed in base32 (may be
 * NULL); *id_r the factor id (may be NULL).  Audit admin.user.otp_add or
 * account.factor.add is the caller's ae.  0 or -1 *errstr.
 */
int factor_totp_create(struct instance *in, const char *tenant, const struct user *u,
    const char *label, int pending, const struct audit_entry *ae, char **id_r, char **uri_r,
    char **secret_b32_r, const char **errstr);
/*
 * The otpauth URI (and, when secret_b32_r is not NULL, the base32 seed) of the user's TOTP
 * factor id, opened with the master key: to show a pending enrolment again.  NULL when
 * there is no such factor or it does not open (caller frees).
 */
char *factor_totp_uri(struct instance *in, const char *tenant, const struct user *u,
    const char *id, char **secret_b32_r);
/*
 * Check code against the user's active TOTP factors (or, with id, that one factor even
 * when pending: its confirmation).  1 accepted (replays and older steps refused in the
 * same write as the acceptance; *id_r the factor, may be NULL), 0 not valid, -1 error.
 */
int factor_totp_check(struct instance *in, const char *tenant, const char *user_id,
    const char *id, const char *code, int64_t now, const struct audit_entry *ae, char **id_r);
/*
 * Ten new recovery codes for the user (replacing any earlier set): written as text into
 * codes[i] (RECOVERY_CODE_LEN + 1 bytes each), stored as hashes.  0 or -1 *errstr.
 */
int factor_recovery_new(struct instance *in, const char *tenant, const char *user_id,
    char codes[FACTOR_RECOVERY_CODES][RECOVERY_CODE_LEN + 1], const struct audit_entry *ae,
    const char **errstr);
/*
 * Use a recovery code (case, spaces and hyphens do not matter): 1 used (*left_r left),
 * 0 not a valid unused code, -1.
 */
int factor_recovery_use(struct instance *in, const char *tenant, const char *user_id,
    const char *code, int64_t now, const struct audit_entry *ae, int *left_r);
/*
 * A new reset token for the user (older ones of the user void), valid
 * RESET_TOKEN_LIFETIME; only its hash is stored.  *token_r (caller frees, never logged).
 * 0 or -1.
 */
int factor_reset_issue(struct instance *in, const char *tenant, const char *user_id,
    char **token_r);
/*
 * The key of a reset token's record: SHA-256 of the token's text.  Take (single use) the
 * token: 1 with the user's id in *user_id_r (caller frees), 0 unknown, used, expired or
 * not a reset token, -1.
 */
void factor_reset_hash(const char *token, unsigned char h_r[CRYPTO_SHA256_LEN]);
int factor_reset_take(struct instance *in, const char *tenant, const char *token, int64_t now,
    char **user_id_r);
/* The link that carries token: BASE/t/TENANT/reset?token=TOKEN (caller frees). */
char *factor_reset_link(const struct instance *in, const char *tenant, const char *token);
/*
 * The mails, in Japanese and English in one body (the recipient's language is not known):
 * a reset link; a recovery code was used (left codes left, at address ip).  Strings of
 * *m_r are new (free with factor_mail_clear).
 */
void factor_mail_reset(const char *tenant, const char *link, const char *to,
    struct mail_msg *m_r);
void factor_mail_recovery_used(const char *tenant, const char *user, int left, const char *ip,
    const char *to, struct mail_msg *m_r);
void factor_mail_clear(struct mail_msg *m);
/* The mail settings of the instance as a struct mail_conf (borrowed strings). */
void factor_mail_conf(const struct instance *in, struct mail_conf *c_r);

#endif
