/*
 * The store: Sekisho's own operations on its persistent data (tenants, keys, users, groups,
 * apps, sessions, pending logins, replay caches, failure counters, audit).  Callers never
 * see a transaction or a byte layout; invariants are enforced inside one write transaction.
 * The embedded backend is LMDB (store.c).
 *
 * Conventions: functions that look something up return 1 found, 0 not found, -1 error.
 * Others return 0 or -1, with *errstr (a static string) saying why.  STORE_FULL (-2)
 * means the database is full and could not grow: callers answer 507.
 * Structs filled by the store own their strings: release them with the *_clear function.
 *
 * Users, groups and apps have an immutable random id besides their name.  Everything that
 * refers to one of them (sessions, memberships, policies, grants, certificates) refers to
 * the id, and removing the object removes or revokes what refers to it in the same
 * transaction: a new object with the same name inherits nothing.
 *
 * Callbacks of the listing functions run inside a read transaction: they may read, but a
 * write there is refused (-1); collect first (store_tenant_ids), then write.
 */
#ifndef SEKISHO_STORE_H
#define SEKISHO_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_FULL (-2)

#define STORE_NAME_MAX 128	/* user, group and app names, tenant ids */

struct store;
struct audit_entry;

/*
 * Every list calls cb once per record, in key order, with a pointer to that module's
 * struct (struct user for store_user_list ...), valid during the call only.
 */
typedef void (*store_each_fn)(const void *rec, void *arg);

/* A new random id for a user, group or app (32 hex digits). */
char *store_new_id(void);

/* 1 when s is a valid user, group, app or tenant name: 1..max bytes of [A-Za-z0-9._@+-]. */
int store_valid_name(const char *s, size_t max);

struct store_settings {
	int64_t map_size;	/* initial map size, bytes */
	int64_t map_size_max;	/* growth stops here */
};

/* Open (creating if needed) the environment in dir/data.  NULL with *errstr. */
struct store *store_open(const char *dir, const struct store_settings *ss, const char **errstr);
void store_close(struct store *st);
/* Clear reader slots left by dead processes; returns how many. */
int store_reader_check(struct store *st);
/* Compacting hot copy into path (a new directory); 0 or -1. */
int store_backup(struct store *st, const char *path, const char **errstr);
/*
 * Open a copy made by store_backup (path: the directory holding data.mdb) read-only, to
 * check it; NULL with *errstr when it does not open as a Sekisho store of a known schema.
 * Only reads work on it; store_close releases it.
 */
struct store *store_open_copy(const char *path, const char **errstr);
/*
 * Whether a process (a server, a command) has the store of dir open: 1 (*pid_r: one of
 * them), 0 not, -1 cannot tell.  With hold, 0 leaves *fd_r holding a lock that keeps
 * servers from opening it until the caller closes *fd_r.
 */
int store_in_use(const char *dir, int hold, int *fd_r, long *pid_r);
/* Bytes of the map in use (up to the last page written) and the map's size; 0 or -1. */
int store_map_usage(struct store *st, int64_t *used_r, int64_t *size_r);
/* Purge expired sessions, pending logins, replay entries, logout states and counters. */
int store_expire(struct store *st, int64_t now, int64_t session_idle);

/*
 * Write transactions of concurrent requests share one durable commit (group commit): how
 * many commits there were, how many write transactions they carried, and how many write
 * transactions wait for one now.  Each commit costs at most one sync (two fdatasyncs).
 */
struct store_commit_stats {
	uint64_t commits;
	uint64_t writes;
	uint64_t queued;
};
void store_commit_stats(struct store *st, struct store_commit_stats *s_r);

/* ---- tenants ---- */
struct tenant {
	char *id;
	char *name;
	uint64_t created;
	unsigned char *secret;	/* sealed tenant secret (NameID and CSRF keys derive from it) */
	size_t secret_len;
	char *timezone;		/* IANA id for day and hour rules; NULL: Asia/Tokyo */
	char *default_effect;	/* "allow" or "deny" when no rule decides; NULL: allow */
	uint64_t pw_min_len;	/* password policy: minimum length in characters; 0: 10 */
	/* branding: what the login page, the portal and the console show (NULL: none) */
	char *display_name;	/* the company as people know it ("株式会社アクメ") */
	unsigned char *logo;	/* PNG or SVG as icon_check checks them */
	size_t logo_len;
	char *logo_type;	/* "image/png", "image/svg+xml" */
	char *color;		/* accent colour, "#rrggbb" */
	char *help_url;		/* where people get help (https: or mailto:) */
	/*
	 * The licence (schema 7).  licensed 0 (every tenant made before schema 7, and a
	 * self-hosted one): no limit applies and the other members mean nothing.  Else seats
	 * is the most active users that are not operators, device_seats (a multiple of 10;
	 * 0: no device-certificate option) the most users holding an active certificate.
	 */
	uint64_t licensed;
	uint64_t seats;
	uint64_t device_seats;
	uint64_t trial_until;	/* end of a trial (s since the epoch); 0: not a trial */
	uint64_t suspended;	/* the operator suspended it: no login, no API (time, or 0) */
};
/*
 * The operator's own keyspace: its API keys and its audit trail are stored under this
 * tenant id, which no tenant can have (store_valid_name refuses "~").  It is not a tenant:
 * store_tenant_list and store_tenant_ids never show it.
 */
#define STORE_OPERATOR "~operator"
/* At most this many operator accounts per tenant (not counted against the seats). */
#define STORE_OPERATORS_MAX 2
/* What a licence counts (store_licence.c). */
struct store_usage {
	uint64_t users;		/* active users that are not operators: what the seats count */
	uint64_t operators;	/* operator accounts, disabled or not */
	uint64_t disabled;	/* disabled users that are not operators */
	uint64_t cert_holders;	/* users holding an active (unrevoked, unexpired) certificate */
};
/* The use of tenant's licence at now (certificates expire): 0, or -1. */
int store_usage(struct store *st, const char *tenant, int64_t now, struct store_usage *u_r);
/*
 * Set tenant id's licence to in's licensed, seats, device_seats and trial_until (all 0 when
 * licensed is 0) with the audit entry ae (the use is appended), in one transaction that
 * also counts the use into *use_r: refused (-1, *errstr store_err_below_use) when the new
 * licence is below it, unless force (then nothing is removed but nothing new is allowed).
 * 1 changed, 0 no such tenant, -1 with *errstr.
 */
int store_tenant_licence(struct store *st, const char *id, const struct tenant *in, int force,
    int64_t now, const struct audit_entry *ae, struct store_usage *use_r, const char **errstr);
/*
 * The *errstr of a change the licence refuses (compare the pointer): no free seat (user
 * add, import, enable, operator flag off), no free device seat (a user's first active
 * certificate), STORE_OPERATORS_MAX operators already, a licence below the use.
 */
extern const char store_err_seats[], store_err_device_seats[], store_err_operators[],
    store_err_below_use[];
/*
 * When err is a refusal of the licence (store_err_seats, _device_seats, _operators), the
 * sentence for a person naming the limit and the use ("the licence has 20 seats and 20 are
 * in use") into buf, and 1; else 0.
 */
int store_licence_refusal(struct store *st, const char *tenant, const char *err, int64_t now,
    char *buf, size_t len);
/* 1 when the licence lets no more users hold an active certificate at now, 0, -1. */
int store_device_seat_full(struct store *st, const char *tenant, int64_t now);
int store_tenant_add(struct store *st, const struct tenant *t, const char **errstr);
int store_tenant_get(struct store *st, const char *id, struct tenant *t_r);
int store_tenant_list(struct store *st, store_each_fn cb, void *arg);
/* The ids of all tenants, as a new NULL-terminated array (free with store_strv_free). */
int store_tenant_ids(struct store *st, char ***ids_r);
/*
 * Set the tenant's time zone and default effect (NULL members stay), with the audit entry
 * (before and after appended) in one commit.  1 changed, 0 no such tenant, -1 *errstr.
 * The caller checks the values (tz_valid; "allow"/"deny").
 */
int store_tenant_set(struct store *st, const char *id, const char *timezone,
    const char *default_effect, const struct audit_entry *ae, const char **errstr);
/*
 * Both kinds of settings in one commit, all or none: the time zone and default effect as
 * store_tenant_set (NULL stays) and the password policy's minimum length (1..128; 0
 * stays), with one audit entry.  1 changed, 0 no such tenant, -1 *errstr.
 */
int store_tenant_update(struct store *st, const char *id, const char *timezone,
    const char *default_effect, uint64_t pw_min_len, const struct audit_entry *ae,
    const char **errstr);
/* The password policy's minimum length (1..128 characters), audited.  1/0/-1 *errstr. */
int store_tenant_set_pw_min(struct store *st, const char *id, uint64_t min_len,
    const struct audit_entry *ae, const char **errstr);
enum {
	STORE_BRAND_NAME = 1,
	STORE_BRAND_LOGO = 2,
	STORE_BRAND_COLOR = 4,
	STORE_BRAND_HELP = 8,
};
/*
 * Any change of a tenant's settings, all in one commit with one audit entry: the time
 * zone and default effect of in (NULL stays), the password policy's minimum length
 * (1..128; 0 stays), the branding members of in that are not NULL (display_name, logo
 * with logo_len and logo_type, color, help_url) and clearing those whose STORE_BRAND_*
 * bit is in clear.  The caller checks the values.  1 changed, 0 no such tenant, -1 *errstr.
 */
int store_tenant_change(struct store *st, const char *id, const struct tenant *in,
    uint64_t pw_min_len, unsigned clear, const struct audit_entry *ae, const char **errstr);
/* The generation counter changes whenever apps or keys of the tenant change. */
int store_tenant_generation(struct store *st, const char *id, uint64_t *gen_r);
void store_tenant_clear(struct tenant *t);
/*
 * Erase tenant: its record and every record under its key prefix in every database
 * (users, groups, apps, sealed keys, certificates, sessions, codes, tokens, API keys,
 * audit trail, meta), in one transaction with ae appended to the operator's audit trail
 * (with records=N, how many went, also in *records_r).  1 erased, 0 no such tenant (*errstr),
 * -1 *errstr.
 */
int store_tenant_erase(struct store *st, const char *tenant, const struct audit_entry *ae,
    uint64_t *records_r, const char **errstr);

/* ---- signing keys ---- */
enum store_key_state {
	STORE_KEY_ACTIVE = 1,	/* signs */
	STORE_KEY_NEXT = 2,	/* published, not yet signing */
	STORE_KEY_RETIRED = 3,	/* published for verification only */
};
struct keyrec {
	char *kid;
	char *use;		/* "saml", "oidc" */
	char *alg;		/* "RS256", "ES256" */
	uint64_t created;
	uint64_t state;
	unsigned char *sealed_key;	/* PEM private key sealed with the master key */
	size_t sealed_key_len;
	char *cert_pem;		/* SAML: the certificate; NULL for OIDC keys */
	uint64_t until;		/* RETIRED: published until then, then deleted */
};
int store_key_add(struct store *st, const char *tenant, const struct keyrec *k, const char **errstr);
int store_key_list(struct store *st, const char *tenant, const char *use, store_each_fn cb,
    void *arg);
/*
 * Rotate the keys of use in one transaction: when NEXT keys exist they become ACTIVE and
 * ACTIVE keys become RETIRED (published until retire_until, for what they signed);
 * RETIRED keys past their time go; the new keys (made by the caller) become NEXT.  With
 * no NEXT key yet, a rotation only publishes the new ones.  Returns how many changed.
 */
int store_key_rotate(struct store *st, const char *tenant, const char *use,
    const struct keyrec *fresh, size_t nfresh, int64_t now, int64_t retire_until);
void store_keyrec_clear(struct keyrec *k);

/* ---- users ---- */
struct user {
	char *id;		/* immutable random id: what everything else refers to */
	char *name;		/* unique without regard to ASCII case, as first written */
	char *email;
	char *display_name;
	char *pwhash;
	uint64_t disabled;
	uint64_t created;
	uint64_t pw_changed;
	char *attrs;		/* extra attributes, "key=value" lines */
	uint64_t break_glass;	/* no deny, device or mfa rule applies; every use audited */
	uint64_t must_change;	/* the next login must set a new password first */
	uint64_t role;		/* enum admin_role (admin/admin_role.h): the console's rights */
	uint64_t operator;	/* the service operator's account: not billed (schema 7) */
};
/* Add u (a new id is made when u->id is NULL); the audit entry goes in the same commit. */
int store_user_add(struct store *st, const char *tenant, const struct user *u,
    const struct audit_entry *ae, const char **errstr);
/*
 * Add the n users of u (each with its audit entry ae[i]) in one transaction: all or none.
 * 0, or -1 with *errstr and the index of the user refused in *at_r.
 */
int store_user_add_many(struct store *st, const char *tenant, const struct user *u,
    const struct audit_entry *ae, size_t n, size_t *at_r, const char **errstr);
/* By name (without regard to ASCII case), by e-mail, by id: 1/0/-1. */
int store_user_get(struct store *st, const char *tenant, const char *name, struct user *u_r);
int store_user_get_by_email(struct store *st, const char *tenant, const char *email,
    struct user *u_r);
int store_user_get_by_id(struct store *st, const char *tenant, const char *id,
    struct user *u_r);
/* Disabling, re-enabling or a new password end every session and grant of the user.  1/0/-1. */
int store_user_set_disabled(struct store *st, const char *tenant, const char *name, int disabled,
    const struct audit_entry *ae);
/* The same with *errstr on -1: re-enabling needs a free seat (store_err_seats). */
int store_user_set_disabled_err(struct store *st, const char *tenant, const char *name,
    int disabled, const struct audit_entry *ae, const char **errstr);
int store_user_set_password(struct store *st, const char *tenant, const char *name,
    const char *pwhash, int64_t now, const struct audit_entry *ae);
/*
 * A new password the user chose (change, reset, forced change): must_change clears; every
 * session of the user ends except keep (the session that made the change, or NULL), and
 * with it every OIDC grant of the ended sessions.  1/0/-1.
 */
int store_user_new_password(struct store *st, const char *tenant, const char *user_id,
    const char *pwhash, int64_t now, const unsigned char *keep, const struct audit_entry *ae);
/* What `user set` changes: NULL members stay; "" clears the e-mail or the display name. */
struct user_change {
	const char *email;
	const char *display_name;
	const char *attrs;	/* the whole new "key=value" lines, or NULL */
	const char *break_glass;	/* "on", "off", or NULL */
	const char *must_change;	/* "on", "off", or NULL */
	const uint64_t *role;	/* the new enum admin_role, or NULL */
	const uint64_t *operator;	/* 1 the service operator's account, 0 not, or NULL */
};
/* 1 changed, 0 no such user, -1 with *errstr (e-mail taken, storage). */
int store_user_update(struct store *st, const char *tenant, const char *name,
    const struct user_change *ch, const struct audit_entry *ae, const char **errstr);
/*
 * Remove a user with everything that refers to it: sessions, OIDC grants, memberships,
 * policies, app assignments and failure counters go, certificates are revoked (cessationOfOperation).
 * The audit entry gets what was removed appended.  1/0/-1.
 */
int store_user_remove(struct store *st, const char *tenant, const char *name,
    const struct audit_entry *ae);
int store_user_list(struct store *st, const char *tenant, store_each_fn cb, void *arg);
void store_user_clear(struct user *u);

/* ---- groups ---- */
struct grouprec {
	char *id;
	char *name;
	uint64_t created;
};
int store_group_add(struct store *st, const char *tenant, const char *group,
    const struct audit_entry *ae, const char **errstr);
/* Removes its memberships, policies and app assignments too (counted in the audit
 * entry).  1/0/-1. */
int store_group_remove(struct store *st, const char *tenant, const char *group,
    const struct audit_entry *ae);
/* 1 exists, 0 not, -1 error. */
int store_group_get(struct store *st, const char *tenant, const char *group, struct grouprec *g_r);
int store_group_list(struct store *st, const char *tenant, store_each_fn cb, void *arg);
void store_group_clear(struct grouprec *g);
/* Membership by names; 0, or -1 with *errstr ("no such group" ...). */
int store_member_add(struct store *st, const char *tenant, const char *group, const char *user,
    const struct audit_entry *ae, const char **errstr);
/* 1 removed, 0 not a member (or no such user or group), -1 error. */
int store_member_remove(struct store *st, const char *tenant, const char *group,
    const char *user, const struct audit_entry *ae);
/*
 * The names of group's members, sorted, as a new NULL-terminated array (free with
 * store_strv_free): 1, 0 when there is no such group (*names_r empty), -1.
 */
int store_group_members(struct store *st, const char *tenant, const char *group,
    char ***names_r);
/*
 * The groups of the user with this id, sorted by name, as a new NULL-terminated array of
 * names or of group ids (free with store_strv_free).
 */
int store_user_groups(struct store *st, const char *tenant, const char *user_id,
    char ***groups_r);
int store_user_group_ids(struct store *st, const char *tenant, const char *user_id,
    char ***ids_r);
void store_strv_free(char **v);

/* ---- apps (service providers and clients) ---- */
struct app {
	char *name;
	char *id;		/* immutable random id (policies refer to it) */
	char *type;		/* "saml" or "oidc" */
	char *entity_id;	/* SAML entityID, or the OIDC client_id */
	char *metadata;		/* SP metadata XML as registered */
	char *nameid_format;	/* "persistent", "transient", "email" */
	uint64_t created;
	uint64_t sign_response;	/* sign the Response as well as the Assertion */
	/* OpenID Connect clients */
	char *secret_hash;	/* hex SHA-256 of the client secret; NULL for other methods */
	char *auth_method;	/* client_secret_basic|client_secret_post|private_key_jwt|none */
	char *redirect_uris;	/* newline-separated, compared byte for byte */
	char *logout_uris;	/* post_logout_redirect_uris, newline-separated */
	char *jwks;		/* the client's public keys (private_key_jwt), JSON */
	char *assertion_alg;	/* the one alg accepted for its client assertions */
	char *id_token_alg;	/* RS256 or ES256 */
	char *access_token_format;	/* "jwt" (RFC 9068) or "opaque" */
	char *backchannel_uri;	/* back-channel logout URI, or NULL */
	char *grant_types;	/* comma-separated */
	/* what the portal shows */
	char *display_name;	/* NULL: the name */
	char *description;
	unsigned char *icon;	/* PNG or SVG as checked by icon_check */
	size_t icon_len;
	char *icon_type;	/* "image/png", "image/svg+xml" */
	char *initiate_login_uri;	/* OIDC: where the portal starts a login (NULL: the first
					 * redirect URI) */
};
/* Add a (a new id is made when a->id is NULL). */
int store_app_add(struct store *st, const char *tenant, const struct app *a,
    const struct audit_entry *ae, const char **errstr);
int store_app_get(struct store *st, const char *tenant, const char *name, struct app *a_r);
int store_app_get_by_entity(struct store *st, const char *tenant, const char *entity_id,
    struct app *a_r);
/*
 * Remove an app with what refers to it: its policies and assignments, its OIDC codes,
 * grants and access tokens, and its part of every SSO session.  1/0/-1.
 */
int store_app_remove(struct store *st, const char *tenant, const char *name,
    const struct audit_entry *ae);
int store_app_list(struct store *st, const char *tenant, store_each_fn cb, void *arg);
void store_app_clear(struct app *a);
/*
 * What `app set` changes on the portal's side: NULL members stay, "" clears (icon_len 0
 * with a non-NULL icon clears the icon).  1 changed, 0 no such app, -1 *errstr.
 */
struct app_display {
	const char *display_name;
	const char *description;
	const unsigned char *icon;
	size_t icon_len;
	const char *icon_type;
	const char *initiate_login_uri;	/* NULL stays, "" clears */
};
int store_app_set_display(struct store *st, const char *tenant, const char *name,
    const struct app_display *d, const struct audit_entry *ae, const char **errstr);

/*
 * ---- app assignments: once an app has one, only the users assigned (themselves or by
 * a group) may reach it.  Removing the user, group or app removes its assignments. ----
 */
struct assignment {
	char *app;		/* the app's id */
	char *kind;		/* "user" or "group" */
	char *target;		/* the user's or group's id */
	char *app_name;		/* names now (filled when listed) */
	char *name;
};
/*
 * Assign (on 1) or unassign the app called app to the user or group (kind) called name.
 * 1 changed, 0 already so, -1 with *errstr ("no such app", "no such user", ...).  Kind
 * "removed" (on 0, name NULL) unassigns every user and group of the app that no longer
 * exists (an app's last assignment outlives its user or group, so the app stays closed)
 * and returns how many went.
 */
int store_assign(struct store *st, const char *tenant, const char *app, const char *kind,
    const char *name, int on, const struct audit_entry *ae, const char **errstr);
/* The assignments (struct assignment) of the app called app (NULL: of every app). */
int store_assignments(struct store *st, const char *tenant, const char *app, store_each_fn cb,
    void *arg);
void store_assignment_clear(struct assignment *a);

/* ---- OpenID Connect grants ---- */

/* What an authorization code stands for until it is redeemed (keyed by its hash). */
struct oidc_code {
	char *client_id;
	char *redirect_uri;
	char *user;		/* the user's id */
	char *scope;
	char *nonce;
	char *challenge;	/* PKCE S256 code_challenge */
	char *amr;		/* space-separated */
	char *acr;
	char *sid;
	unsigned char *session;	/* hash of the SSO session */
	size_t session_len;
	uint64_t auth_time;
	uint64_t expires;
	uint64_t used;
	char *family;		/* the grant issued when it was redeemed */
	char *device;		/* serial of the device certificate of the session, or NULL */
};

/* A grant: the refresh tokens and access tokens of one authorization (keyed by its id). */
struct oidc_family {
	char *client_id;
	char *user;		/* the user's id; NULL for client_credentials */
	char *scope;
	char *sid;
	char *amr;
	char *acr;
	unsigned char *session;
	size_t session_len;
	uint64_t auth_time;
	uint64_t created;
	uint64_t expires;	/* the refresh tokens of the grant end here at the latest */
	uint64_t gen;		/* generation of the one live refresh token */
	uint64_t revoked;
	char *device;		/* serial of the device certificate of the session, or NULL */
};

/* An issued access token (opaque value or JWT jti, keyed by its hash). */
struct oidc_access {
	char *family;		/* NULL for client_credentials */
	char *client_id;
	char *user;		/* the user's id, or NULL */
	char *scope;
	uint64_t expires;
	uint64_t revoked;
};

int store_code_put(struct store *st, const char *tenant, const char *code,
    const struct oidc_code *c);
/* The code's record without using it (to mint tokens before redeeming): 1/0/-1. */
int store_code_get(struct store *st, const char *tenant, const char *code,
    struct oidc_code *c_r);

/* What a token answer records, committed together with the grant change. */
struct oidc_issue {
	const char *refresh_token;	/* NULL: none */
	int64_t refresh_expires;
	const char *access_key;		/* opaque token or JWT jti */
	const struct oidc_access *access;
	const struct audit_entry *audit;
};
/* What a redemption must match, and the grant it creates. */
struct oidc_redeem {
	const char *client_id;
	const char *redirect_uri;
	const char *challenge;		/* S256 of the code_verifier sent, or NULL */
	const char *family_id;		/* the grant to create (refresh tokens), or NULL */
	int64_t family_expires;
};
/*
 * Redeem a code in one transaction.  1: first use, *c_r filled, the code marked used, the
 * grant created from it and what iss lists recorded.  2: the code was used before: the
 * grant it produced is revoked.  3: client, redirect_uri or PKCE do not match (the code
 * stays usable).  4: the SSO session it came from has ended.  0: unknown or expired.
 * -1: error.
 */
int store_code_redeem(struct store *st, const char *tenant, const char *code, int64_t now,
    const struct oidc_redeem *r, const struct oidc_issue *iss, struct oidc_code *c_r);
void store_code_clear(struct oidc_code *c);

/* Issue the first refresh token of a grant; fails (0) when the grant was revoked meanwhile. */
int store_refresh_issue(struct store *st, const char *tenant, const char *family_id,
    const char *token, int64_t expires);
/*
 * Rotate: old gives way to new in one transaction.  1: done, *f_r filled.  2: old was
 * already replaced (a replay): the whole grant is revoked.  0: unknown, expired, revoked
 * or another client's.  -1: error.
 */
int store_refresh_rotate(struct store *st, const char *tenant, const char *client_id,
    const char *old_token, const char *new_token, int64_t now, int64_t expires,
    const struct oidc_issue *iss, char **family_r, struct oidc_family *f_r);
int store_family_get(struct store *st, const char *tenant, const char *family_id,
    struct oidc_family *f_r);
/* 1 revoked, 0 unknown, -1 error. */
int store_family_revoke(struct store *st, const char *tenant, const char *family_id);
/* Revoke every grant made in an SSO session / for a user; returns how many, -1 on error. */
int store_revoke_session_grants(struct store *st, const char *tenant,
    const unsigned char session[32]);
int store_revoke_user_grants(struct store *st, const char *tenant, const char *user);
/* What a refresh token belongs to (for revocation and introspection): 1/0/-1. */
int store_refresh_family(struct store *st, const char *tenant, const char *token,
    char **family_r, uint64_t *expires_r);
void store_family_clear(struct oidc_family *f);

int store_access_put(struct store *st, const char *tenant, const char *key,
    const struct oidc_access *a, const struct audit_entry *audit);
/* 1 live (not expired, not revoked, its grant not revoked), 0 not live, -1 error. */
int store_access_get(struct store *st, const char *tenant, const char *key, int64_t now,
    struct oidc_access *a_r);
int store_access_revoke(struct store *st, const char *tenant, const char *key);
void store_access_clear(struct oidc_access *a);

/* ---- device certificates ---- */

#define STORE_CERT_CAP 10	/* active certificates per user ID */

struct devcert {
	char *serial;		/* upper-case hex */
	char *user;		/* the user's name when it was issued (its subject's CN) */
	char *label;
	char *fingerprint;	/* hex SHA-256 of the DER */
	uint64_t issued;
	uint64_t not_before;
	uint64_t not_after;
	uint64_t revoked;
	uint64_t revoked_at;
	uint64_t reason;	/* CRLReason */
	unsigned char *der;
	size_t der_len;
	uint64_t last_used;
	char *user_id;		/* the user's immutable id: what the certificate belongs to */
};
/*
 * Record a new certificate if its user (user_id) still exists and has fewer
 * than cap certificates that are neither revoked nor expired at now, checked and inserted
 * with the audit record in one transaction.  0, or -1 with *errstr ("limit" in it when
 * the cap refused it).
 */
int store_cert_add(struct store *st, const char *tenant, const struct devcert *c, int64_t now,
    int cap, const struct audit_entry *ae, const char **errstr);
/* How many certificates of the user with this id count against the cap at now, or -1. */
int store_cert_active(struct store *st, const char *tenant, const char *user_id, int64_t now);
int store_cert_get(struct store *st, const char *tenant, const char *serial,
    struct devcert *c_r);
int store_cert_by_fingerprint(struct store *st, const char *tenant, const char *fingerprint,
    struct devcert *c_r);
/* The certificates (struct devcert) of the user with this id (NULL: all), oldest first. */
int store_cert_list(struct store *st, const char *tenant, const char *user_id, store_each_fn cb,
    void *arg);
/*
 * Revoke (with the audit record): 1 done (the user's sessions and OIDC grants end with it;
 * *user_r is the owner when user_r is not NULL), 2 already revoked, 0 unknown, -1 error.
 */
int store_cert_revoke(struct store *st, const char *tenant, const char *serial, int reason,
    int64_t now, const struct audit_entry *ae, char **user_r);
/* A counter that moves with every revocation (a CRL built at another value is stale). */
int store_cert_revocations(struct store *st, const char *tenant, uint64_t *gen_r);
/* Note a use of the certificate (at most once a minute is written). */
int store_cert_touch(struct store *st, const char *tenant, const char *serial, int64_t now);
void store_devcert_clear(struct devcert *c);

struct crlrec {
	uint64_t number;
	uint64_t this_update;
	uint64_t next_update;
	unsigned char *der;
	size_t der_len;
	uint64_t rev_gen;	/* store_cert_revocations when it was built */
};
int store_crl_put(struct store *st, const char *tenant, const struct crlrec *r);
int store_crl_get(struct store *st, const char *tenant, struct crlrec *r_r);
/* The next CRL number (counts up in the store, once per call). */
int store_crl_next_number(struct store *st, const char *tenant, uint64_t *n_r);
void store_crlrec_clear(struct crlrec *r);

/* ---- policies: settings of the tenant, or of one user, group or app ---- */
struct policy {
	char *kind;		/* "tenant", "user", "group" or "app" */
	char *target;		/* the id of that user, group or app; "" for the tenant */
	char *name;		/* its name now (filled when listed) */
	char *key;
	char *value;
};
/*
 * Set key (value NULL: remove it) for the tenant (name NULL) or the user, group or app of
 * kind called name, which must exist; the audit entry goes in the same commit.  0, or -1
 * with *errstr ("no such user" ...).
 */
int store_policy_set(struct store *st, const char *tenant, const char *kind, const char *name,
    const char *key, const char *value, const struct audit_entry *ae, const char **errstr);
/* One change of store_policy_set_all: as store_policy_set's arguments. */
struct policy_change {
	const char *kind, *name, *key, *value;
	const struct audit_entry *ae;
};
/*
 * Every change in one commit, or none: 0, or -1 with *errstr and the index of the change
 * at fault in *bad_r (may be NULL).
 */
int store_policy_set_all(struct store *st, const char *tenant, const struct policy_change *ch,
    size_t n, size_t *bad_r, const char **errstr);
/* Every setting (struct policy each), by kind (app, group, tenant, user) and target id. */
int store_policy_list(struct store *st, const char *tenant, store_each_fn cb, void *arg);
void store_policy_clear(struct policy *p);

/*
 * ---- access rules: an ordered list per tenant (policies/rules.h evaluates them) ----
 * Users, groups and apps are stored by id: a rule naming a user who is removed later
 * keeps the id, which nobody has any more (listed as "?removed").
 */
struct rule_rec {
	char *name;
	char *effect;		/* "allow", "deny", "device", "mfa" */
	char *users;		/* ids, newline-separated; NULL: any */
	char *groups;
	char *apps;
	char *from;		/* CIDRs, space-separated, canonical; NULL: anywhere */
	char *not_from;
	char *days;		/* "mon,tue,..." ; NULL: every day */
	char *hours;		/* "HH:MM-HH:MM" in the tenant's zone (may cross midnight) */
	uint64_t report_only;
	uint64_t pos;		/* order: smaller first */
	uint64_t created;
	uint64_t mfa_enroll;	/* effect mfa: a user with no factor may enrol one at login */
	/* names, newline-separated in the order of the ids: given to add, filled by list */
	char *user_names;
	char *group_names;
	char *app_names;
};
#define STORE_ERR_MAX 256
/*
 * Add r (names in *_names, resolved to ids here) before the rule called before (NULL: at
 * the end), checked with rule_validate, with the audit entry ("after" appended) in one
 * commit.  0, or -1 with a message in err naming the bad part ("no such user bob", "a rule
 * called x exists", "no rule called y to put it before").
 */
int store_rule_add(struct store *st, const char *tenant, const struct rule_rec *r,
    const char *before, const struct audit_entry *ae, char err[STORE_ERR_MAX]);
/* 1 removed (audit has "before"), 0 no such rule, -1 with err. */
int store_rule_remove(struct store *st, const char *tenant, const char *name,
    const struct audit_entry *ae, char err[STORE_ERR_MAX]);
/*
 * Replace the conditions and effect of the rule called r->name (its position and creation
 * time stay), checked and resolved as for add, audited with "before" and "after": 1
 * replaced, 0 no such rule, -1 with err.
 */
int store_rule_replace(struct store *st, const char *tenant, const struct rule_rec *r,
    const struct audit_entry *ae, char err[STORE_ERR_MAX]);
/* Move the rule before another: 1 moved, 0 no such rule, -1 with err. */
int store_rule_move(struct store *st, const char *tenant, const char *name, const char *before,
    const struct audit_entry *ae, char err[STORE_ERR_MAX]);
/* The rules (struct rule_rec, names filled) in order. */
int store_rule_list(struct store *st, const char *tenant, store_each_fn cb, void *arg);
void store_rule_clear(struct rule_rec *r);

/* ---- SSO sessions (keyed by the SHA-256 of the cookie value) ---- */
struct session {
	char *user;		/* the user's id */
	char *methods;		/* "pwd" ... */
	uint64_t created;
	uint64_t last_seen;
	uint64_t authn_instant;
	uint64_t expires;	/* absolute end */
	char *device;		/* serial of the device certificate checked in it, or NULL */
	uint64_t device_at;
	char *ip;		/* the client's address at login */
	char *agent;		/* its User-Agent at login (at most 200 bytes kept) */
	uint64_t mfa_at;	/* when a second factor was last proven in it; 0: never */
};
/* Per service provider that received an assertion in this session (for Single Logout). */
struct session_sp {
	char *entity_id;
	char *state;		/* protocol state (lasso session dump with that SP's assertion) */
	uint64_t when;
};
int store_session_add(struct store *st, const char *tenant, const unsigned char id_hash[32],
    const struct session *s);
int store_session_get(struct store *st, const char *tenant, const unsigned char id_hash[32],
    struct session *s_r);
int store_session_touch(struct store *st, const char *tenant, const unsigned char id_hash[32],
    int64_t now);
/* A device certificate (serial) was checked in this session: 1 done, 0 no session, -1. */
int store_session_set_device(struct store *st, const char *tenant,
    const unsigned char id_hash[32], const char *serial, int64_t now);
/* The user authenticated again in this session: authn_instant and last_seen move. */
int store_session_reauth(struct store *st, const char *tenant, const unsigned char id_hash[32],
    int64_t now);
/*
 * A second factor was proven in this session (step-up): method ("otp", "hwk", "user" ...)
 * joins methods unless there, "mfa" too, mfa_at, authn_instant and last_seen move.  1/0/-1.
 */
int store_session_add_method(struct store *st, const char *tenant,
    const unsigned char id_hash[32], const char *method, int64_t now);
/* The sessions of the user with this id: cb gets a struct session_info. */
struct session_info {
	unsigned char hash[32];
	struct session s;
};
int store_session_list_user(struct store *st, const char *tenant, const char *user_id,
    store_each_fn cb, void *arg);
/* End the session hash only if it is user_id's (and with it its OIDC grants): 1/0/-1. */
int store_session_end_user(struct store *st, const char *tenant, const char *user_id,
    const unsigned char id_hash[32], const struct audit_entry *ae);
/* Ends the session and forgets its SPs; 1/0/-1. */
int store_session_delete(struct store *st, const char *tenant, const unsigned char id_hash[32]);
/*
 * Record an SSO in one transaction: the request id is remembered until replay_until (a
 * second use fails with *errstr "replayed request"), the SP joins the session, last_seen
 * moves.  request_id may be NULL (IdP-initiated).  Fails when the session has ended.
 * The audit record (optional) is written in the same transaction.
 */
int store_session_sso(struct store *st, const char *tenant, const unsigned char id_hash[32],
    const char *request_id, int64_t replay_until, const struct session_sp *sp, int64_t now,
    const struct audit_entry *audit, const char **errstr);
/* The same for an OIDC client, which also gets its authorization code stored. */
int store_session_authorize(struct store *st, const char *tenant,
    const unsigned char id_hash[32], const struct session_sp *sp, const char *code,
    const struct oidc_code *c, int64_t now, const struct audit_entry *audit,
    const char **errstr);
/* The apps (struct session_sp) that joined the session. */
int store_session_sps(struct store *st, const char *tenant, const unsigned char id_hash[32],
    store_each_fn cb, void *arg);
void store_session_clear(struct session *s);
void store_session_sp_clear(struct session_sp *sp);

/* ---- replay cache for protocol message ids (SAML request ids, later jti) ---- */
/* 1 when id was already recorded (without recording it), 0 not, -1 error. */
int store_replay_seen(struct store *st, const char *tenant, const char *kind, const char *id);
/* 0 newly recorded, 1 already seen (replay), -1 error. */
int store_replay_check(struct store *st, const char *tenant, const char *kind, const char *id,
    int64_t until);

/* ---- logins waiting for the user to authenticate (keyed by a random id's hash) ---- */
struct pending {
	char *kind;		/* "saml-redirect", "saml-post", "saml-init" */
	char *app;		/* SP entity ID */
	char *state;		/* the request as received (raw query or base64 message) */
	char *relay_state;
	uint64_t created;
	uint64_t expires;
	uint64_t force;		/* the SP asked for a fresh authentication */
};
int store_pending_put(struct store *st, const char *tenant, const char *id, const struct pending *p);
int store_pending_get(struct store *st, const char *tenant, const char *id, struct pending *p_r);
/* Get and delete in one transaction: a pending login resumes once.  1/0/-1. */
int store_pending_take(struct store *st, const char *tenant, const char *id, struct pending *p_r);
void store_pending_clear(struct pending *p);

/* ---- Single Logout in progress (keyed by a random id carried in RelayState) ---- */
struct logout_state {
	char *origin;		/* entity id of the SP that asked, or NULL (IdP-initiated) */
	char *state;		/* protocol state for the answer to origin */
	char *remaining;	/* "entity-id TAB base64(state)" lines of SPs still to visit */
	char *current;		/* the SP being asked now */
	char *current_state;	/* protocol state for its answer */
	char *relay_state;	/* origin's RelayState, to echo (POST binding) */
	char *user;
	uint64_t partial;	/* some SP did not confirm */
	uint64_t expires;
	char *return_to;	/* where to send the browser at the end (OIDC RP logout) */
};
int store_logout_put(struct store *st, const char *tenant, const char *id,
    const struct logout_state *l);
int store_logout_get(struct store *st, const char *tenant, const char *id,
    struct logout_state *l_r);
int store_logout_delete(struct store *st, const char *tenant, const char *id);
void store_logout_clear(struct logout_state *l);

/* ---- authentication failure counters (per user and per address) ---- */
struct failures {
	uint64_t count;
	uint64_t first;
	uint64_t last;
};
/* Count one failure; a count older than window starts again.  Returns the new state. */
int store_failure_add(struct store *st, const char *tenant, const char *scope, const char *key,
    int64_t now, int64_t window, struct failures *f_r);
int store_failure_get(struct store *st, const char *tenant, const char *scope, const char *key,
    struct failures *f_r);
int store_failure_clear(struct store *st, const char *tenant, const char *scope, const char *key);
/*
 * Reserve an authentication attempt in one write transaction: gate() sees the user's and
 * the address's ("user" and "ip" scopes) counters as they stand and decides; then both
 * count the attempt as a failure in advance, whatever gate() said, so parallel attempts
 * cannot all pass on one reading.  Returns gate()'s value (>= 0), or -1; *user_r is the
 * user's counter with this attempt.  A success gives it back: store_failure_success.
 */
int store_failure_reserve(struct store *st, const char *tenant, const char *user, const char *ip,
    int64_t now, int64_t window,
    int (*gate)(const struct failures *user, const struct failures *ip, void *arg), void *arg,
    struct failures *user_r);
/* An attempt succeeded: the user's counter ends, the address's gives the attempt back. */
int store_failure_success(struct store *st, const char *tenant, const char *user,
    const char *ip);

/*
 * ---- second factors of users (own database; keyed by tenant, user id, factor id).
 * Removing the user removes them.  Every change bumps nothing (not configuration). ----
 */
enum factor_kind {
	FACTOR_TOTP = 1,	/* secret: the seed sealed with the master key */
	FACTOR_WEBAUTHN = 2,	/* secret: the credential's public key (libfido2's raw form) */
	FACTOR_RECOVERY = 3,	/* secret: 10 SHA-256 hashes of the codes (320 bytes) */
};
#define FACTOR_RECOVERY_CODES 10
struct factor {
	char *id;		/* 16 hex digits, random; made by store_factor_add when NULL */
	char *user;		/* the user's id */
	uint64_t kind;		/* enum factor_kind */
	char *label;		/* the user's or admin's name for it (at most 64 characters) */
	uint64_t created;
	uint64_t last_used;
	unsigned char *secret;
	size_t secret_len;
	uint64_t counter;	/* TOTP: last accepted time step; WEBAUTHN: signature counter;
				 * RECOVERY: bit i set when code i was used */
	char *cred_id;		/* WEBAUTHN: the credential id, base64url (unique per tenant) */
	int64_t alg;		/* WEBAUTHN: COSE algorithm (-7 ES256, -257 RS256, -8 EdDSA) */
	uint64_t pending;	/* TOTP: 1 until confirmed by a valid code (does not count) */
	uint64_t flags;		/* WEBAUTHN: FACTOR_F_* */
};
#define FACTOR_F_UV 1		/* WebAuthn: user verification seen at registration */
#define FACTOR_F_COUNTER_REGRESSED 2	/* WebAuthn: a signature counter went backwards once */
/*
 * Add f with the audit entry in one commit.  A RECOVERY factor replaces the user's
 * previous set; a WEBAUTHN one is refused when its cred_id is already registered in the
 * tenant ("credential already registered").  At most 20 factors per user ("too many
 * factors").  f->id made when NULL (returned in *id_r when id_r is not NULL; caller frees).
 * 0 or -1 *errstr.
 */
int store_factor_add(struct store *st, const char *tenant, const struct factor *f,
    const struct audit_entry *ae, char **id_r, const char **errstr);
int store_factor_get(struct store *st, const char *tenant, const char *user_id, const char *id,
    struct factor *f_r);
/* The WebAuthn factor with this credential id in the tenant: 1/0/-1. */
int store_factor_by_cred(struct store *st, const char *tenant, const char *cred_id,
    struct factor *f_r);
/* The user's factors (struct factor), pending ones included, in id order. */
int store_factor_list(struct store *st, const char *tenant, const char *user_id,
    store_each_fn cb, void *arg);
/* How many confirmed TOTP and WebAuthn factors the user has (recovery codes not counted). */
int store_factor_count(struct store *st, const char *tenant, const char *user_id, int *n_r);
/* 1 removed (audit gets kind and label), 0 no such factor, -1. */
int store_factor_remove(struct store *st, const char *tenant, const char *user_id,
    const char *id, const struct audit_entry *ae);
/* Rename: 1/0/-1. */
int store_factor_label(struct store *st, const char *tenant, const char *user_id,
    const char *id, const char *label, const struct audit_entry *ae);
/*
 * TOTP: accept time step for the factor in one write: 1 when step > counter (counter
 * becomes step, pending clears (confirmation), last_used = now), 0 when step <= counter
 * (a replay, or an older code after a newer one), -1.  The audit entry (optional) is
 * written only when accepted.
 */
int store_totp_accept(struct store *st, const char *tenant, const char *user_id, const char *id,
    uint64_t step, int64_t now, const struct audit_entry *ae);
/*
 * Recovery: use the code whose SHA-256 is hash: 1 used (its bit set, *left_r codes left),
 * 0 no such unused code, -1.  Audit entry written with the use.
 */
int store_recovery_use(struct store *st, const char *tenant, const char *user_id,
    const unsigned char hash[32], int64_t now, const struct audit_entry *ae, int *left_r);
/*
 * WebAuthn: the authenticator's signature counter after a verified assertion.  When the
 * stored counter is not 0 and new <= stored (0 included), FACTOR_F_COUNTER_REGRESSED
 * is set and 2 returned (the caller refuses and audits); else the counter and last_used
 * move and 1 is returned; 0 no such factor, -1.
 */
int store_webauthn_counter(struct store *st, const char *tenant, const char *user_id,
    const char *id, uint64_t counter, int64_t now);
/* "totp", "webauthn", "recovery" ("unknown" otherwise). */
const char *store_factor_kind_name(uint64_t kind);
void store_factor_clear(struct factor *f);

/*
 * ---- short-lived states bound to a browser or a link: second-factor steps, WebAuthn
 * challenges, TOTP enrolment, password-reset tokens (keyed by the SHA-256 of a random
 * value that only the browser or the link holds; expired ones are purged by
 * store_expire and never returned). ----
 */
struct challenge {
	char *kind;		/* "step", "webauthn", "totp-enrol", "reset" ... */
	char *user;		/* the user's id, or NULL */
	char *data;		/* the kind's own ("key=value" lines) */
	uint64_t created;
	uint64_t expires;
};
int store_challenge_put(struct store *st, const char *tenant, const unsigned char hash[32],
    const struct challenge *c);
/* 1 found and not expired, 0 not, -1. */
int store_challenge_get(struct store *st, const char *tenant, const unsigned char hash[32],
    int64_t now, struct challenge *c_r);
/* Get and delete in one write: single use.  1/0/-1. */
int store_challenge_take(struct store *st, const char *tenant, const unsigned char hash[32],
    int64_t now, struct challenge *c_r);
/* Every challenge of kind for user_id goes (a new reset link voids older ones).  0/-1. */
int store_challenge_drop_user(struct store *st, const char *tenant, const char *kind,
    const char *user_id);
void store_challenge_clear(struct challenge *c);

/*
 * ---- rate limits (fixed windows): count one hit on scope/key in one write; 1 when the
 * hit is within limit hits per window seconds, 0 when over (the hit is still counted). ----
 */
int store_rate_hit(struct store *st, const char *tenant, const char *scope, const char *key,
    int64_t now, int64_t window, uint64_t limit);

/*
 * ---- API keys (schema 5): records by tenant and id, an index by name (without regard to
 * ASCII case).  Limits per key: APIKEY_PER_SECOND calls per second and APIKEY_PER_MONTH per
 * calendar month (UTC), counted in the record so restarts and processes agree. ----
 */
#define APIKEY_SCOPE_READ 0x1	/* GET on the admin API */
#define APIKEY_SCOPE_WRITE 0x2	/* changes (users, groups, apps, rules, keys) */
#define APIKEY_SCOPE_CERTS 0x4	/* issue and revoke device certificates */
#define APIKEY_SCOPE_SCIM 0x8	/* the SCIM server */
#define APIKEY_SCOPE_ALL 0xf
#define APIKEY_PER_SECOND 1
#define APIKEY_PER_MONTH 5000
struct apikey {
	char *id;		/* 16 hex digits: the key's public part */
	char *name;
	unsigned char hash[32];	/* SHA-256 of the whole key string */
	uint64_t scopes;	/* APIKEY_SCOPE_* */
	uint64_t created;
	uint64_t expires;	/* 0: never */
	uint64_t trial;		/* deleted with the tenant's trial */
	uint64_t suspended;	/* by an admin */
	char *created_by;	/* the actor that made it */
	/* use, written by store_apikey_hit */
	uint64_t month;		/* the month counted: year * 12 + month - 1 (UTC) */
	uint64_t month_calls;	/* allowed calls in that month */
	uint64_t last_ms;	/* time of the last allowed call, ms since the epoch */
	uint64_t quota_month;	/* the month its quota ran out in (suspended for it), or 0 */
	uint64_t total_calls;
};
/* Add k (name and id unique); the audit entry in the same commit.  0, or -1 *errstr. */
int store_apikey_add(struct store *st, const char *tenant, const struct apikey *k,
    const struct audit_entry *ae, const char **errstr);
/* By name (any case) or by id: 1/0/-1. */
int store_apikey_get(struct store *st, const char *tenant, const char *name, struct apikey *k_r);
int store_apikey_get_by_id(struct store *st, const char *tenant, const char *id,
    struct apikey *k_r);
/* Every key of the tenant, by name. */
int store_apikey_list(struct store *st, const char *tenant, store_each_fn cb, void *arg);
/* 1 changed, 0 no such key, -1. */
int store_apikey_set_suspended(struct store *st, const char *tenant, const char *name, int on,
    const struct audit_entry *ae);
int store_apikey_remove(struct store *st, const char *tenant, const char *name,
    const struct audit_entry *ae);
void store_apikey_clear(struct apikey *k);

enum apikey_verdict {
	APIKEY_OK = 0,		/* counted */
	APIKEY_UNKNOWN,		/* no key with that id, or the hash differs */
	APIKEY_SUSPENDED,	/* by an admin */
	APIKEY_EXPIRED,
	APIKEY_SECOND,		/* over APIKEY_PER_SECOND: retry_after_ms */
	APIKEY_MONTH,		/* over APIKEY_PER_MONTH: suspended until the month ends */
};
struct apikey_hit {
	enum apikey_verdict verdict;
	uint64_t remaining;	/* calls left this month after this one */
	int64_t retry_after_ms;	/* APIKEY_SECOND: until the next second; APIKEY_MONTH: to
				 * the month's end */
	int64_t reset_s;	/* seconds to the end of the month (RateLimit-Reset) */
	int exhausted_now;	/* this call is the first refused for the month (audit it) */
	char *name;		/* the key's name (new string) unless APIKEY_UNKNOWN */
	uint64_t scopes;
};
/*
 * One call with key id whose string hashes to hash, at now_ms, in one write: checks the
 * hash (in constant time), suspension and expiry, then the per-second and the monthly
 * limits, and counts the call only when it is allowed.  A clock stepped back never
 * resets a month already counted, and a call before last_ms counts as a new second.
 * 0 with *r (clear it with store_apikey_hit_clear), or -1 on a storage failure.
 */
int store_apikey_hit(struct store *st, const char *tenant, const char *id,
    const unsigned char hash[32], int64_t now_ms, struct apikey_hit *r);
void store_apikey_hit_clear(struct apikey_hit *r);
/* The UTC month of a time (ms since the epoch) as struct apikey counts it. */
uint64_t store_apikey_month(int64_t now_ms);

/* ---- renames and lookups the admin API and SCIM need ---- */
/* 1 renamed, 0 no such user/group, -1 *errstr (new name taken or not valid). */
int store_user_rename(struct store *st, const char *tenant, const char *name,
    const char *new_name, const struct audit_entry *ae, const char **errstr);
int store_group_rename(struct store *st, const char *tenant, const char *name,
    const char *new_name, const struct audit_entry *ae, const char **errstr);
int store_group_get_by_id(struct store *st, const char *tenant, const char *id,
    struct grouprec *g_r);

/* ---- audit trail (append-only, hash-chained per tenant) ---- */
struct audit_rec {
	uint64_t seq;
	uint64_t time;
	char *event;
	char *fields;		/* "key=value ..." as in the log line */
	unsigned char *prev;	/* SHA-256 of the previous record */
	size_t prev_len;
};
int store_audit_append(struct store *st, const char *tenant, int64_t now, const char *event,
    const char *fields);
int store_audit_list(struct store *st, const char *tenant, int64_t since,
    void (*cb)(const struct audit_rec *r, void *arg), void *arg);
/*
 * At most max records (oldest first) whose sequence number is above after, each given to
 * cb; one read transaction per call, so a long trail is read in batches.  The number
 * given (0 at the end), or -1.
 */
int store_audit_range(struct store *st, const char *tenant, uint64_t after, size_t max,
    void (*cb)(const struct audit_rec *r, void *arg), void *arg);
/* The same newest first: records whose sequence number is below before (0: from the newest). */
int store_audit_range_before(struct store *st, const char *tenant, uint64_t before,
    size_t max, void (*cb)(const struct audit_rec *r, void *arg), void *arg);
/* Check the chain; 0 intact, -1 with *errstr and the first bad sequence number. */
int store_audit_verify(struct store *st, const char *tenant, uint64_t *bad_seq_r,
    const char **errstr);
/* The sequence number of the newest record into *seq_r (0: none yet); 0 or -1. */
int store_audit_head(struct store *st, const char *tenant, uint64_t *seq_r);
/*
 * A named position in the tenant's trail (the last record a forwarder passed on): 1 found,
 * 0 not (*seq_r 0), -1; set it with store_audit_mark_set (0 or -1).
 */
int store_audit_mark_get(struct store *st, const char *tenant, const char *name,
    uint64_t *seq_r);
int store_audit_mark_set(struct store *st, const char *tenant, const char *name, uint64_t seq);
/* Remove records older than before, keeping the chain verifiable from the new start. */
int store_audit_prune(struct store *st, const char *tenant, int64_t before);
void store_audit_clear(struct audit_rec *r);

#endif
