/*
 * Registering a passkey on the account page: a single-use challenge bound to the session,
 * the browser's answer (filled in by /static/webauthn.js) checked by lib/webauthn.c with
 * user verification required, and the credential stored as a WEBAUTHN factor.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_int.h"
#include "buf.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "factor.h"
#include "url.h"
#include "webauthn.h"
#include "xmalloc.h"

#define CHALLENGE_LIFETIME 300

/* The relying party: the host of url and its origin (new strings); 0 or -1. */
static int
relying_party(const struct account_req *a, char **rp_id_r, char **origin_r)
{
	const char *url = a->idp->in.settings.url;
	size_t n = strlen(url);
	char *port = NULL;

	if (url_https_authority(url, rp_id_r, &port) < 0)
		return -1;
	free(port);
	*origin_r = xstrndup(url, n && url[n - 1] == '/' ? n - 1 : n);
	return 0;
}

static char *
challenge_data(const struct account_req *a)
{
	return xasprintf("purpose=register\nbind=%s", a->binding);
}

/* A new challenge for this session, stored; its base64url (caller frees), or NULL. */
static char *
new_challenge(struct account_req *a)
{
	unsigned char ch[WEBAUTHN_CHALLENGE_LEN], hash[32];
	int64_t now = clock_now();
	struct challenge c = { .kind = "webauthn", .user = a->ss.user.id,
		.data = challenge_data(a), .created = (uint64_t)now,
		.expires = (uint64_t)(now + CHALLENGE_LIFETIME) };
	char *b64 = NULL;

	crypto_random(ch, sizeof(ch));
	crypto_sha256(ch, sizeof(ch), hash);
	if (store_challenge_put(a->idp->in.store, a->t->id, hash, &c) == 0)
		b64 = b64url_encode(ch, sizeof(ch));
	free(c.data);
	return b64;
}

static void
exclude_cb(const void *rec, void *arg)
{
	const struct factor *f = rec;
	struct buf *b = arg;

	if (f->kind != FACTOR_WEBAUTHN || f->cred_id == NULL)
		return;
	if (b->len)
		buf_putc(b, ',');
	buf_puts(b, f->cred_id);
}

static void
passkey_values(struct account_req *a, struct tmpl_vars *v, const char *rp_id)
{
	const struct user *u = &a->ss.user;
	char *uid = b64url_encode(u->id, strlen(u->id)), *url, *rp_name, *exclude;
	struct buf b;

	buf_init(&b, 0);
	store_factor_list(a->idp->in.store, a->t->id, u->id, exclude_cb, &b);
	exclude = buf_steal(&b, NULL);
	url = xasprintf("%saccount/passkey", a->t->path);
	rp_name = xasprintf("Sekisho %s", a->tn.name ? a->tn.name : a->t->id);
	tmpl_set(v, "title", page_msg(a->idp->pages, a->lang, "passkey_title"));
	tmpl_set(v, "passkey_url", url);
	tmpl_set(v, "rp", rp_id);
	tmpl_set(v, "rp_name", rp_name);
	tmpl_set(v, "user_id", uid);
	tmpl_set(v, "user_name", u->name);
	tmpl_set(v, "user_display", u->display_name && *u->display_name ? u->display_name :
	    u->name);
	tmpl_set(v, "exclude", exclude ? exclude : "");
	tmpl_set(v, "label", page_msg(a->idp->pages, a->lang, "passkey_default_label"));
	free(uid);
	free(url);
	free(rp_name);
	free(exclude);
}

static void
passkey_page(struct account_req *a, int status, const char *error)
{
	struct tmpl_vars *v;
	char *rp_id = NULL, *origin = NULL, *challenge = NULL;

	if (relying_party(a, &rp_id, &origin) < 0 || (challenge = new_challenge(a)) == NULL) {
		account_error(a, 503, "error_server");
		goto done;
	}
	v = tmpl_vars_new();
	passkey_values(a, v, rp_id);
	tmpl_set(v, "challenge", challenge);
	if (error)
		tmpl_set(v, "error", page_msg(a->idp->pages, a->lang, error));
	page_allow_script(a->req);
	account_render(a, status, "account_passkey.html", v);
	tmpl_vars_free(v);
done:
	free(rp_id);
	free(origin);
	free(challenge);
}

void
account_passkey_get(struct account_req *a)
{
	passkey_page(a, 200, NULL);
}

/* ---- the answer ---- */

static int
field_ok(const char *s)
{
	return s && *s && strlen(s) <= WEBAUTHN_INPUT_MAX;
}

/*
 * Take the challenge the answer names (single use): 1 when it was this session's
 * registration challenge, its bytes in ch; 0 not; -1 storage error.
 */
static int
take_challenge(struct account_req *a, const char *client_data,
    unsigned char ch[WEBAUTHN_CHALLENGE_LEN])
{
	unsigned char hash[32];
	struct challenge c;
	char *want;
	int rc, ok;

	if (webauthn_client_challenge(client_data, ch, WEBAUTHN_CHALLENGE_LEN) !=
	    WEBAUTHN_CHALLENGE_LEN)
		return 0;
	crypto_sha256(ch, WEBAUTHN_CHALLENGE_LEN, hash);
	if ((rc = store_challenge_take(a->idp->in.store, a->t->id, hash, clock_now(), &c)) != 1)
		return rc;
	want = challenge_data(a);
	ok = c.kind && !strcmp(c.kind, "webauthn") && c.data && !strcmp(c.data, want) &&
	    c.user && !strcmp(c.user, a->ss.user.id);
	free(want);
	store_challenge_clear(&c);
	return ok;
}

static void
refuse(struct account_req *a, int status, const char *reason, const char *msg)
{
	audit_event(a->idp->in.store, a->t->id, "account.factor.fail", "user", a->ss.user.name,
	    "ip", http_client_ip(a->req), "kind", "webauthn", "reason", reason, NULL);
	passkey_page(a, status, msg);
}

/* Store the checked credential; 0, or -1 with *errstr. */
static int
store_credential(struct account_req *a, const struct webauthn_cred *c, const char *label,
    const char **errstr)
{
	struct factor f = { .user = a->ss.user.id, .kind = FACTOR_WEBAUTHN,
		.label = (char *)label, .created = (uint64_t)clock_now(),
		.secret = c->pubkey, .secret_len = c->pubkey_len, .counter = c->counter,
		.cred_id = c->cred_id, .alg = c->alg, .flags = c->uv ? FACTOR_F_UV : 0 };
	struct audit_entry ae;

	account_audit_entry(a, &ae, "account.factor.add");
	return store_factor_add(a->idp->in.store, a->t->id, &f, &ae, NULL, errstr);
}

/* Check the registration against the challenge ch; 0 with *c_r, or -1 with *errstr. */
static int
verify(struct account_req *a, const unsigned char *ch, struct webauthn_cred *c_r,
    const char **errstr)
{
	const struct form *f = http_form(a->req);
	struct webauthn_expect e = { .challenge = ch, .challenge_len = WEBAUTHN_CHALLENGE_LEN,
		.require_uv = 1 };
	char *rp_id = NULL, *origin = NULL;
	int rc;

	if (relying_party(a, &rp_id, &origin) < 0) {
		*errstr = "relying party";
		return -1;
	}
	e.rp_id = rp_id;
	e.origin = origin;
	rc = webauthn_register(&e, form_get(f, "client_data"),
	    form_get(f, "attestation_object"), c_r, errstr);
	free(rp_id);
	free(origin);
	return rc;
}

void
account_passkey_post(struct account_req *a)
{
	const struct form *f = http_form(a->req);
	const char *label = form_get(f, "label"), *cd = form_get(f, "client_data"), *err;
	unsigned char ch[WEBAUTHN_CHALLENGE_LEN];
	struct webauthn_cred c = { 0 };
	int rc;

	if (label == NULL || !*label)
		label = page_msg(a->idp->pages, a->lang, "passkey_default_label");
	if (!field_ok(cd) || !field_ok(form_get(f, "attestation_object")) ||
	    !account_label_ok(label)) {
		refuse(a, 400, "bad_input", "passkey_failed");
		return;
	}
	if ((rc = take_challenge(a, cd, ch)) != 1) {
		if (rc < 0)
			account_error(a, 503, "error_server");
		else
			refuse(a, 400, "challenge", "passkey_failed");
		return;
	}
	if (verify(a, ch, &c, &err) < 0)
		refuse(a, 400, err, "passkey_failed");
	else if (store_credential(a, &c, label, &err) < 0)
		refuse(a, 400, err, !strcmp(err, "credential already registered") ?
		    "passkey_known" : "passkey_failed");
	else
		account_done(a, "acct_done_factor_added");
	webauthn_cred_clear(&c);
}
