/*
 * A user's second factors and password-reset links as an administrator handles them,
 * shared by `sekisho user otp|factors|factor|reset-password` and the admin API: the
 * checks, the store calls and the audit records (never a seed, a URI or a token).  Every
 * function returns 0, or -1 after admin_fail (the field is the API's member name).
 */
#ifndef SEKISHO_ADMIN_FACTOR_H
#define SEKISHO_ADMIN_FACTOR_H

#include "admin.h"
#include "store.h"

/* How a reset link reaches the user. */
enum admin_reset_via {
	ADMIN_RESET_LINK,	/* given to the caller, who hands it over */
	ADMIN_RESET_MAIL,	/* mailed to the user's address through smtp_relay */
};

/* Each factor of the user called name (struct factor, pending ones included) to cb. */
int admin_factor_list(struct admin *a, const char *name, store_each_fn cb, void *arg);
/*
 * The factor id of the user called name (store_factor_clear it): a malformed id, an
 * unknown one and another user's are all ADMIN_NOT_FOUND (field "id").
 */
int admin_factor_get(struct admin *a, const char *name, const char *id, struct factor *f_r);
/* Recovery codes of a FACTOR_RECOVERY factor not used yet. */
int admin_factor_codes_left(const struct factor *f);
/*
 * A new active TOTP factor (a hardware token) for the user called name, labelled label
 * (NULL: "TOTP"), audited admin.user.otp_add with the label.  *id_r (may be NULL) and
 * *uri_r, the otpauth URI shown once (caller frees them; wipe the URI).
 */
int admin_otp_add(struct admin *a, const char *name, const char *label, char **id_r,
    char **uri_r);
/* Remove the factor id of the user called name (admin.user.factor_remove). */
int admin_factor_remove(struct admin *a, const char *name, const char *id);
/* What a reset link request did (strings new; admin_reset_clear). */
struct admin_reset {
	char *user;	/* the user's name as stored */
	char *link;	/* ADMIN_RESET_LINK: the link (secret: wiped by admin_reset_clear) */
	char *to;	/* ADMIN_RESET_MAIL: the address it was mailed to */
};
/*
 * A new single-use reset link for the user called name (older ones void), audited
 * admin.user.reset_password with via=link|mail, into *r.  ADMIN_RESET_MAIL mails it now;
 * no relay or no address is ADMIN_CONFLICT (field "delivery") before any token is made,
 * and a link whose mail was not sent is voided (ADMIN_FAILED).
 */
int admin_reset_password(struct admin *a, const char *name, enum admin_reset_via via,
    struct admin_reset *r);
void admin_reset_clear(struct admin_reset *r);

#endif
