/*
 * WebAuthn relying-party checks.  clientDataJSON is ours to check (jansson); the
 * attestation object is split with libcbor; libfido2 parses authenticator data and
 * verifies signatures.  The RP ID hash and the UP/UV flags are checked here, before
 * libfido2, so each refusal names its reason, and because libfido2 cannot verify
 * attestation format "none" at all (it needs a signature), which browsers send.
 */
#include "config.h"

#include <cbor.h>
#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <fido/rs256.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "encode.h"
#include "log.h"
#include "webauthn.h"
#include "xmalloc.h"

#define AD_MIN 37		/* rpIdHash(32) flags(1) signCount(4) */
#define AD_FLAGS 32
#define AD_UP 0x01
#define AD_UV 0x04
#define AD_BE 0x08
#define AD_AT 0x40
#define AD_ED 0x80
#define CRED_ID_MAX 1023	/* WebAuthn Level 3 caps credential ids */

/* What came in, decoded. */
struct wa_in {
	unsigned char *cd, *ad, *sig, *ao;
	size_t cd_len, ad_len, sig_len, ao_len;
	unsigned char cdh[CRYPTO_SHA256_LEN];
};

static pthread_once_t fido_once = PTHREAD_ONCE_INIT;

static void
fido_setup(void)
{
	fido_init(0);
}

/* A base64url input of at most WEBAUTHN_INPUT_MAX bytes; NULL when absent or bad. */
static unsigned char *
decode_in(const char *s, size_t *len_r)
{
	size_t n;

	if (s == NULL || (n = strnlen(s, WEBAUTHN_INPUT_MAX + 1)) > WEBAUTHN_INPUT_MAX || n == 0)
		return NULL;
	return b64url_decode(s, n, WEBAUTHN_INPUT_MAX, len_r);
}

static void
in_free(struct wa_in *in)
{
	free(in->cd);
	free(in->ad);
	free(in->sig);
	free(in->ao);
}

/* The parsed clientDataJSON object (caller decrefs), or NULL. */
static json_t *
client_json(const unsigned char *cd, size_t len)
{
	json_t *j = json_loadb((const char *)cd, len, JSON_REJECT_DUPLICATES, NULL);

	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* The challenge member decoded; NULL when absent or not base64url. */
static unsigned char *
json_challenge(json_t *j, size_t *len_r)
{
	const char *s = json_string_value(json_object_get(j, "challenge"));

	return s ? b64url_decode(s, strlen(s), WEBAUTHN_INPUT_MAX, len_r) : NULL;
}

long
webauthn_client_challenge(const char *client_data_b64u, unsigned char *buf, size_t max)
{
	size_t cd_len, len = 0;
	unsigned char *cd = decode_in(client_data_b64u, &cd_len), *ch = NULL;
	json_t *j = cd ? client_json(cd, cd_len) : NULL;
	long rc = -1;

	if (j != NULL && (ch = json_challenge(j, &len)) != NULL && len <= max) {
		memcpy(buf, ch, len);
		rc = (long)len;
	}
	free(ch);
	json_decref(j);
	free(cd);
	return rc;
}

/* type, challenge, origin and crossOrigin of clientDataJSON; 0 or -1 *errstr. */
static int
client_check(const struct webauthn_expect *e, const char *type, const struct wa_in *in,
    const char **errstr)
{
	json_t *j = client_json(in->cd, in->cd_len), *xo;
	const char *t, *origin;
	unsigned char *ch = NULL;
	size_t ch_len = 0;

	*errstr = "malformed";
	if (j == NULL)
		return -1;
	t = json_string_value(json_object_get(j, "type"));
	origin = json_string_value(json_object_get(j, "origin"));
	xo = json_object_get(j, "crossOrigin");
	if (t == NULL || origin == NULL || (xo && !json_is_boolean(xo)))
		*errstr = "malformed";
	else if (strcmp(t, type) != 0)
		*errstr = "type";
	else if ((ch = json_challenge(j, &ch_len)) == NULL || ch_len != e->challenge_len ||
	    !crypto_eq(ch, e->challenge, ch_len))
		*errstr = "challenge";
	else if (strcmp(origin, e->origin) != 0 || json_is_true(xo))
		*errstr = "origin";
	else
		*errstr = NULL;
	free(ch);
	json_decref(j);
	return *errstr ? -1 : 0;
}

/* RP ID hash and flags of raw authenticator data (shared by both ceremonies). */
static int
authdata_check(const struct webauthn_expect *e, const unsigned char *ad, size_t len,
    const char **errstr)
{
	unsigned char h[CRYPTO_SHA256_LEN];

	if (len < AD_MIN) {
		*errstr = "malformed";
		return -1;
	}
	crypto_sha256(e->rp_id, strlen(e->rp_id), h);
	if (!crypto_eq(h, ad, sizeof(h)))
		*errstr = "rp id";
	else if (!(ad[AD_FLAGS] & AD_UP))
		*errstr = "user presence";
	else if (e->require_uv && !(ad[AD_FLAGS] & AD_UV))
		*errstr = "user verification";
	else
		return 0;
	return -1;
}

/* Decode the inputs and check clientDataJSON; fills in (in_free it either way). */
static int
inputs(const struct webauthn_expect *e, const char *type, const char *cd, const char *ad,
    const char *sig, const char *ao, struct wa_in *in, const char **errstr)
{
	memset(in, 0, sizeof(*in));
	*errstr = "malformed";
	pthread_once(&fido_once, fido_setup);
	if (e == NULL || e->rp_id == NULL || e->origin == NULL || e->challenge == NULL ||
	    (in->cd = decode_in(cd, &in->cd_len)) == NULL ||
	    (ad && (in->ad = decode_in(ad, &in->ad_len)) == NULL) ||
	    (sig && (in->sig = decode_in(sig, &in->sig_len)) == NULL) ||
	    (ao && (in->ao = decode_in(ao, &in->ao_len)) == NULL))
		return -1;
	crypto_sha256(in->cd, in->cd_len, in->cdh);
	return client_check(e, type, in, errstr);
}

/* ---- registration ---- */

/* The parts of an attestation object: borrowed from the loaded item. */
struct attobj {
	cbor_item_t *item;
	char fmt[32];
	const unsigned char *ad;
	size_t ad_len;
	cbor_item_t *stmt;
};

static int
text_is(const cbor_item_t *k, const char *s)
{
	size_t n = strlen(s);

	return cbor_isa_string(k) && cbor_string_is_definite(k) &&
	    cbor_string_length(k) == n && memcmp(cbor_string_handle(k), s, n) == 0;
}

/* One member of the attestation object's map into a. */
static int
attobj_member(struct attobj *a, const struct cbor_pair *p)
{
	if (text_is(p->key, "fmt") && cbor_isa_string(p->value) &&
	    cbor_string_is_definite(p->value) && cbor_string_length(p->value) < sizeof(a->fmt)) {
		memcpy(a->fmt, cbor_string_handle(p->value), cbor_string_length(p->value));
		a->fmt[cbor_string_length(p->value)] = '\0';
	} else if (text_is(p->key, "authData") && cbor_isa_bytestring(p->value) &&
	    cbor_bytestring_is_definite(p->value)) {
		a->ad = cbor_bytestring_handle(p->value);
		a->ad_len = cbor_bytestring_length(p->value);
	} else if (text_is(p->key, "attStmt") && cbor_isa_map(p->value) &&
	    cbor_map_is_definite(p->value)) {
		a->stmt = p->value;
	} else {
		return -1;
	}
	return 0;
}

/* Split {fmt, attStmt, authData}; nothing else, nothing after it.  0 or -1. */
static int
attobj_parse(const unsigned char *p, size_t len, struct attobj *a)
{
	struct cbor_load_result res;
	struct cbor_pair *pairs;

	memset(a, 0, sizeof(*a));
	a->item = cbor_load(p, len, &res);
	if (a->item == NULL || res.read != len || !cbor_isa_map(a->item) ||
	    !cbor_map_is_definite(a->item) || cbor_map_size(a->item) != 3)
		return -1;
	pairs = cbor_map_handle(a->item);
	for (size_t i = 0; i < 3; i++)
		if (attobj_member(a, &pairs[i]) == -1)
			return -1;
	return a->fmt[0] && a->ad && a->stmt ? 0 : -1;
}

/* The COSE alg (key 3) of the credential public key in attested credential data. */
static int
cose_alg(const unsigned char *ad, size_t len, int *alg_r)
{
	struct cbor_load_result res;
	cbor_item_t *key;
	size_t off = AD_MIN + 16, id_len;
	int rc = -1;

	if (!(ad[AD_FLAGS] & AD_AT) || len < off + 2)
		return -1;
	id_len = (size_t)ad[off] << 8 | ad[off + 1];
	off += 2 + id_len;
	if (id_len == 0 || id_len > CRED_ID_MAX || len <= off)
		return -1;
	if ((key = cbor_load(ad + off, len - off, &res)) == NULL)
		return -1;
	/* Without extensions (ED) the key ends the data; libfido2 does not check that. */
	if ((ad[AD_FLAGS] & AD_ED) || off + res.read == len) {
		struct cbor_pair *pairs = cbor_isa_map(key) && cbor_map_is_definite(key) ?
		    cbor_map_handle(key) : NULL;

		for (size_t i = 0; pairs && i < cbor_map_size(key); i++)
			if (cbor_isa_uint(pairs[i].key) && cbor_get_int(pairs[i].key) == 3 &&
			    cbor_isa_negint(pairs[i].value) && cbor_get_int(pairs[i].value) < 0xffff) {
				*alg_r = -1 - (int)cbor_get_int(pairs[i].value);
				rc = 0;
			}
	}
	cbor_decref(&key);
	return rc;
}

static int
alg_supported(int alg)
{
	return alg == COSE_ES256 || alg == COSE_RS256 || alg == COSE_EDDSA;
}

/* libfido2's key object for a stored key: one of the three, per alg. */
struct pk {
	es256_pk_t *es;
	rs256_pk_t *rs;
	eddsa_pk_t *ed;
};

/*
 * The key for alg from libfido2's raw form, checked by OpenSSL (a point on the curve,
 * ...); NULL when it is not one (pk_free either way).
 */
static const void *
pk_load(struct pk *k, int alg, const unsigned char *p, size_t len)
{
	memset(k, 0, sizeof(*k));
	if (alg == COSE_ES256 && (k->es = es256_pk_new()) != NULL &&
	    es256_pk_from_ptr(k->es, p, len) == FIDO_OK)
		return k->es;
	if (alg == COSE_RS256 && (k->rs = rs256_pk_new()) != NULL &&
	    rs256_pk_from_ptr(k->rs, p, len) == FIDO_OK)
		return k->rs;
	if (alg == COSE_EDDSA && (k->ed = eddsa_pk_new()) != NULL &&
	    eddsa_pk_from_ptr(k->ed, p, len) == FIDO_OK)
		return k->ed;
	return NULL;
}

static void
pk_free(struct pk *k)
{
	es256_pk_free(&k->es);
	rs256_pk_free(&k->rs);
	eddsa_pk_free(&k->ed);
}

static int
pubkey_ok(int alg, const unsigned char *p, size_t len)
{
	struct pk k = { 0 };
	int ok = p != NULL && pk_load(&k, alg, p, len) != NULL;

	pk_free(&k);
	return ok;
}

/* Load the registration into cred; 0 or -1 *errstr. */
static int
cred_load(fido_cred_t *cred, const struct webauthn_expect *e, const struct wa_in *in,
    const struct attobj *a, int alg, const char **errstr)
{
	unsigned char *stmt = NULL;
	size_t stmt_cap, stmt_len = cbor_serialize_alloc(a->stmt, &stmt, &stmt_cap);
	int rc = -1;

	*errstr = "malformed";
	if (stmt_len == 0 || fido_cred_set_type(cred, alg) != FIDO_OK ||
	    fido_cred_set_rp(cred, e->rp_id, NULL) != FIDO_OK ||
	    fido_cred_set_clientdata_hash(cred, in->cdh, sizeof(in->cdh)) != FIDO_OK ||
	    fido_cred_set_authdata_raw(cred, a->ad, a->ad_len) != FIDO_OK ||
	    fido_cred_set_uv(cred, e->require_uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) != FIDO_OK)
		goto done;
	*errstr = "attestation";
	if (fido_cred_set_fmt(cred, a->fmt) != FIDO_OK ||
	    fido_cred_set_attstmt(cred, stmt, stmt_len) != FIDO_OK)
		goto done;
	rc = 0;
done:
	free(stmt);
	return rc;
}

/*
 * "none" carries nothing to verify (an empty statement: the checks above are all there
 * is); "packed" without x5c is self attestation; anything else a certificate's.
 */
static int
attestation_ok(const fido_cred_t *cred, const struct attobj *a)
{
	int rc;

	if (strcmp(a->fmt, "none") == 0)
		return cbor_map_size(a->stmt) == 0;
	if (fido_cred_x5c_ptr(cred) == NULL)
		rc = fido_cred_verify_self(cred);
	else
		rc = fido_cred_verify(cred);
	if (rc != FIDO_OK)
		log_info("attestation %s: %s", a->fmt, fido_strerr(rc));
	return rc == FIDO_OK;
}

static void
cred_out(const fido_cred_t *cred, int alg, struct webauthn_cred *c)
{
	uint8_t flags = fido_cred_flags(cred);

	c->cred_id = b64url_encode(fido_cred_id_ptr(cred), fido_cred_id_len(cred));
	c->pubkey_len = fido_cred_pubkey_len(cred);
	c->pubkey = xmemdup(fido_cred_pubkey_ptr(cred), c->pubkey_len);
	c->alg = alg;
	c->counter = fido_cred_sigcount(cred);
	c->uv = (flags & AD_UV) != 0;
	c->backup_eligible = (flags & AD_BE) != 0;
}

/* The attestation object in a decoded registration; 0 or -1 *errstr. */
static int
register_parsed(const struct webauthn_expect *e, const struct wa_in *in,
    const struct attobj *a, struct webauthn_cred *c_r, const char **errstr)
{
	fido_cred_t *cred = NULL;
	int alg = 0, rc = -1;

	if (authdata_check(e, a->ad, a->ad_len, errstr) == -1)
		return -1;
	*errstr = "malformed";
	if (cose_alg(a->ad, a->ad_len, &alg) == -1)
		return -1;
	*errstr = "unsupported algorithm";
	if (!alg_supported(alg))
		return -1;
	if ((cred = fido_cred_new()) == NULL)
		fatal("fido_cred_new: out of memory");
	if (cred_load(cred, e, in, a, alg, errstr) == -1)
		goto done;
	*errstr = "attestation";
	if (!attestation_ok(cred, a))
		goto done;
	*errstr = "malformed";
	if (!pubkey_ok(alg, fido_cred_pubkey_ptr(cred), fido_cred_pubkey_len(cred)))
		goto done;
	cred_out(cred, alg, c_r);
	*errstr = NULL;
	rc = 0;
done:
	fido_cred_free(&cred);
	return rc;
}

int
webauthn_register(const struct webauthn_expect *e, const char *client_data_b64u,
    const char *attestation_object_b64u, struct webauthn_cred *c_r, const char **errstr)
{
	struct wa_in in;
	struct attobj a = { 0 };
	int rc = -1;

	memset(c_r, 0, sizeof(*c_r));
	if (attestation_object_b64u == NULL) {
		*errstr = "malformed";
		return -1;
	}
	if (inputs(e, "webauthn.create", client_data_b64u, NULL, NULL, attestation_object_b64u,
	    &in, errstr) == -1)
		goto done;
	*errstr = "malformed";
	if (attobj_parse(in.ao, in.ao_len, &a) == -1)
		goto done;
	rc = register_parsed(e, &in, &a, c_r, errstr);
done:
	if (a.item)
		cbor_decref(&a.item);
	in_free(&in);
	return rc;
}

/* ---- assertion ---- */

/* fido_assert_verify with the stored key; FIDO_OK or libfido2's error. */
static int
assert_verify(const fido_assert_t *as, const unsigned char *p, size_t len, int alg)
{
	struct pk k = { 0 };
	const void *key = pk_load(&k, alg, p, len);
	int rc = key ? fido_assert_verify(as, 0, alg, key) : FIDO_ERR_INVALID_ARGUMENT;

	pk_free(&k);
	return rc;
}

/* Load the assertion into as; 0 or -1. */
static int
assert_load(fido_assert_t *as, const struct webauthn_expect *e, const struct wa_in *in)
{
	return fido_assert_set_rp(as, e->rp_id) == FIDO_OK &&
	    fido_assert_set_clientdata_hash(as, in->cdh, sizeof(in->cdh)) == FIDO_OK &&
	    fido_assert_set_count(as, 1) == FIDO_OK &&
	    fido_assert_set_authdata_raw(as, 0, in->ad, in->ad_len) == FIDO_OK &&
	    fido_assert_set_sig(as, 0, in->sig, in->sig_len) == FIDO_OK &&
	    fido_assert_set_up(as, FIDO_OPT_TRUE) == FIDO_OK &&
	    fido_assert_set_uv(as, e->require_uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) == FIDO_OK ?
	    0 : -1;
}

int
webauthn_assert(const struct webauthn_expect *e, const char *client_data_b64u,
    const char *authenticator_data_b64u, const char *signature_b64u,
    const unsigned char *pubkey, size_t pubkey_len, int alg, uint32_t *counter_r, int *uv_r,
    const char **errstr)
{
	struct wa_in in;
	fido_assert_t *as = NULL;
	int rc = -1, v;

	if (authenticator_data_b64u == NULL || signature_b64u == NULL) {
		*errstr = "malformed";
		return -1;
	}
	if (inputs(e, "webauthn.get", client_data_b64u, authenticator_data_b64u, signature_b64u,
	    NULL, &in, errstr) == -1 || authdata_check(e, in.ad, in.ad_len, errstr) == -1)
		goto done;
	*errstr = "unsupported algorithm";
	if (!alg_supported(alg) || pubkey == NULL)
		goto done;
	if ((as = fido_assert_new()) == NULL)
		fatal("fido_assert_new: out of memory");
	*errstr = "malformed";
	if (assert_load(as, e, &in) == -1)
		goto done;
	if ((v = assert_verify(as, pubkey, pubkey_len, alg)) != FIDO_OK) {
		log_debug("fido_assert_verify: %s", fido_strerr(v));
		*errstr = "signature";
		goto done;
	}
	*counter_r = fido_assert_sigcount(as, 0);
	*uv_r = (fido_assert_flags(as, 0) & AD_UV) != 0;
	*errstr = NULL;
	rc = 0;
done:
	fido_assert_free(&as);
	in_free(&in);
	return rc;
}

void
webauthn_cred_clear(struct webauthn_cred *c)
{
	if (c == NULL)
		return;
	free(c->cred_id);
	free(c->pubkey);
	memset(c, 0, sizeof(*c));
}
