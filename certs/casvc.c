/*
 * The ca process: requests in, CA operations on the store, replies out.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit.h"
#include "ca.h"
#include "casvc.h"
#include "clock.h"
#include "crypto.h"
#include "ipc.h"
#include "log.h"
#include "rec.h"
#include "store.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }
#define FB(tag, st, m, l) { tag, REC_BYTES, offsetof(struct st, m), offsetof(struct st, l) }

static const struct rec_field request_fields[] = {
	F(1, REC_U64, ca_request, op),
	F(2, REC_STR, ca_request, tenant),
	F(3, REC_STR, ca_request, user),
	F(4, REC_STR, ca_request, label),
	F(5, REC_STR, ca_request, keytype),
	F(6, REC_STR, ca_request, csr),
	F(7, REC_STR, ca_request, password),
	F(8, REC_U64, ca_request, legacy),
	F(9, REC_STR, ca_request, serial),
	F(10, REC_U64, ca_request, reason),
	F(11, REC_U64, ca_request, force),
	F(12, REC_STR, ca_request, actor),
	F(13, REC_STR, ca_request, sudo_user),
	F(14, REC_STR, ca_request, ip),
	REC_END
};

static const struct rec_field reply_fields[] = {
	F(1, REC_U64, ca_reply, ok),
	F(2, REC_STR, ca_reply, error),
	F(3, REC_U64, ca_reply, limit),
	F(4, REC_STR, ca_reply, serial),
	F(5, REC_STR, ca_reply, fingerprint),
	F(6, REC_U64, ca_reply, not_before),
	F(7, REC_U64, ca_reply, not_after),
	F(8, REC_STR, ca_reply, cert_pem),
	FB(9, ca_reply, p12, p12_len),
	FB(10, ca_reply, crl, crl_len),
	F(11, REC_U64, ca_reply, crl_number),
	F(12, REC_U64, ca_reply, status),
	F(13, REC_STR, ca_reply, user),
	REC_END
};

void
ca_request_clear(struct ca_request *rq)
{
	rec_clear(request_fields, rq);
}

void
ca_reply_clear(struct ca_reply *rp)
{
	rec_clear(reply_fields, rp);
}

/* ---- checks ---- */

/* 1 when s is valid UTF-8 without control characters. */
static int
utf8_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned int c = *p, need, cp;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return 0;
		for (unsigned int i = 1; i <= need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0x80 && cp <= 0x9f))
			return 0;
		p += need + 1;
	}
	return 1;
}

int
ca_check_label(const char *label, const char **errstr)
{
	size_t n = label ? strlen(label) : 0;

	if (n == 0 || n > 64 || !utf8_text(label) || label[0] == ' ' || label[n - 1] == ' ') {
		*errstr = "the device label must be 1-64 bytes of text (no control characters, "
		    "no leading or trailing space)";
		return -1;
	}
	return 0;
}

int
ca_check_password(const char *password, const char **errstr)
{
	size_t n = password ? strlen(password) : 0;

	for (size_t i = 0; i < n; i++)
		if (password[i] < 0x20 || password[i] > 0x7e)
			n = 0;
	if (n < CA_P12_PASSWORD_MIN || n > CA_P12_PASSWORD_MAX) {
		*errstr = "the PKCS#12 password must be 12-50 printable ASCII characters "
		    "(importers differ on other characters)";
		return -1;
	}
	return 0;
}

/* ---- the service ---- */

struct loaded_ca {
	struct loaded_ca *next;
	char *tenant;
	char *kid;
	struct ca *ca;
	char *cert_pem;
};

struct casvc {
	const struct casvc_conf *conf;
	struct loaded_ca *cas;
};

static char *
seal_aad(const char *tenant, const char *kid)
{
	return xasprintf("key:%s:ca:%s", tenant, kid);
}

struct find_ca {
	struct keyrec k;
	int found;
};

static void
find_ca_cb(const void *rec, void *arg)
{
	const struct keyrec *k = rec;
	struct find_ca *f = arg;

	if (f->found || k->state != STORE_KEY_ACTIVE)
		return;
	f->found = 1;
	f->k.kid = xstrdup(k->kid);
	f->k.cert_pem = k->cert_pem ? xstrdup(k->cert_pem) : NULL;
	f->k.sealed_key = xmemdup(k->sealed_key, k->sealed_key_len);
	f->k.sealed_key_len = k->sealed_key_len;
}

/* The tenant's CA, unsealed on first use; NULL with *errstr. */
static struct loaded_ca *
get_ca(struct casvc *s, const char *tenant, const char **errstr)
{
	struct loaded_ca *l;
	struct find_ca f = { 0 };
	unsigned char *pem = NULL;
	char *ad;
	size_t len;
	struct ca *ca;

	for (l = s->cas; l; l = l->next)
		if (!strcmp(l->tenant, tenant))
			return l;
	if (store_key_list(s->conf->st, tenant, "ca", find_ca_cb, &f) < 0 || !f.found ||
	    f.k.cert_pem == NULL) {
		*errstr = "the tenant has no device CA (create one with: sekisho tenant ca TENANT)";
		store_keyrec_clear(&f.k);
		return NULL;
	}
	ad = seal_aad(tenant, f.k.kid);
	pem = crypto_open(s->conf->key, ad, strlen(ad), f.k.sealed_key, f.k.sealed_key_len, &len);
	free(ad);
	if (pem == NULL) {
		*errstr = "the CA key does not open with ca.key";
		store_keyrec_clear(&f.k);
		return NULL;
	}
	pem = xreallocarray(pem, len + 1, 1);
	pem[len] = '\0';
	ca = ca_load((const char *)pem, f.k.cert_pem, errstr);
	freezero(pem, len + 1);
	if (ca == NULL) {
		store_keyrec_clear(&f.k);
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->tenant = xstrdup(tenant);
	l->kid = f.k.kid;
	l->cert_pem = f.k.cert_pem;
	l->ca = ca;
	f.k.kid = f.k.cert_pem = NULL;
	store_keyrec_clear(&f.k);
	l->next = s->cas;
	s->cas = l;
	return l;
}

static void
fail(struct ca_reply *rp, const char *msg)
{
	rp->ok = 0;
	free(rp->error);
	rp->error = xstrdup(msg);
}

static int crl_current(struct casvc *s, const char *tenant, int force, struct crlrec *out,
    const char **errstr);

static void
do_create(struct casvc *s, const struct ca_request *rq, struct ca_reply *rp)
{
	struct crlrec crl = { 0 };
	struct tenant t = { 0 };
	struct keyrec k = { 0 };
	struct find_ca f = { 0 };
	enum pki_keytype type;
	char *key_pem = NULL, *cert_pem = NULL, fp[96], *ad;
	const char *errstr;

	if (rq->keytype == NULL || !strcmp(rq->keytype, "p256"))
		type = PKI_P256;
	else if (!strcmp(rq->keytype, "rsa3072"))
		type = PKI_RSA3072;
	else {
		fail(rp, "the CA key type must be p256 or rsa3072");
		return;
	}
	if (store_tenant_get(s->conf->st, rq->tenant, &t) != 1) {
		fail(rp, "no such tenant");
		return;
	}
	if (store_key_list(s->conf->st, rq->tenant, "ca", find_ca_cb, &f) < 0 || f.found) {
		store_keyrec_clear(&f.k);
		store_tenant_clear(&t);
		fail(rp, "the tenant already has a device CA");
		return;
	}
	if (ca_create(type, rq->tenant, t.name ? t.name : rq->tenant, &key_pem, &cert_pem,
	    &errstr) == -1 || pki_cert_fingerprint(cert_pem, fp) == -1) {
		fail(rp, "cannot create the CA");
		goto done;
	}
	k.kid = xstrndup(fp, 23);
	for (char *p = k.kid; *p; p++)
		if (*p == ':')
			memmove(p, p + 1, strlen(p));
	k.use = xstrdup("ca");
	k.alg = xstrdup(type == PKI_P256 ? "ES256" : "RS384");
	k.created = (uint64_t)clock_now();
	k.state = STORE_KEY_ACTIVE;
	k.cert_pem = cert_pem;
	cert_pem = NULL;
	ad = seal_aad(rq->tenant, k.kid);
	k.sealed_key = crypto_seal(s->conf->key, ad, strlen(ad), key_pem, strlen(key_pem),
	    &k.sealed_key_len);
	free(ad);
	if (store_key_add(s->conf->st, rq->tenant, &k, &errstr) == -1) {
		fail(rp, errstr);
		goto done;
	}
	rp->ok = 1;
	rp->cert_pem = xstrdup(k.cert_pem);
	audit_event(s->conf->st, rq->tenant, "ca.create", "kid", k.kid, "alg", k.alg, "actor",
	    rq->actor, "sudo_user", rq->sudo_user, "ip", rq->ip, NULL);
	/* The first (empty) CRL, so relying parties that fetch it find one. */
	if (crl_current(s, rq->tenant, 1, &crl, &errstr) == -1)
		log_error("tenant %s: first CRL: %s", rq->tenant, errstr);
	store_crlrec_clear(&crl);
done:
	freezero_str(key_pem);
	free(cert_pem);
	store_keyrec_clear(&k);
	store_tenant_clear(&t);
}

struct revoked_list {
	struct ca_revoked *r;
	size_t n;
	int64_t now;
};

static void
revoked_cb(const void *rec, void *arg)
{
	const struct devcert *c = rec;
	struct revoked_list *l = arg;

	/* A revoked certificate stays listed until it would have expired (RFC 5280 3.3). */
	if (!c->revoked || (int64_t)c->not_after < l->now)
		return;
	l->r = xreallocarray(l->r, l->n + 1, sizeof(*l->r));
	l->r[l->n].serial = xstrdup(c->serial);
	l->r[l->n].when = (int64_t)c->revoked_at;
	l->r[l->n].reason = (int)c->reason;
	l->n++;
}

/*
 * The tenant's CRL in out: the stored one while it is current (built after the last
 * revocation and with more than half its validity left), else a new one.  0 or -1.
 */
static int
crl_current(struct casvc *s, const char *tenant, int force, struct crlrec *out,
    const char **errstr)
{
	struct store *st = s->conf->st;
	int64_t now = clock_now(), validity = s->conf->crl_validity;
	struct revoked_list l = { .now = now };
	struct loaded_ca *ca;
	uint64_t gen, number;
	int rc = -1;

	*errstr = "storage error";
	if (store_cert_revocations(st, tenant, &gen) == -1 || store_crl_get(st, tenant, out) < 0)
		return -1;
	if (!force && out->der && out->rev_gen == gen && (int64_t)out->this_update <= now &&
	    (int64_t)out->next_update - now > validity / 2)
		return 0;
	store_crlrec_clear(out);
	if ((ca = get_ca(s, tenant, errstr)) == NULL)
		return -1;
	if (store_cert_list(st, tenant, NULL, revoked_cb, &l) < 0 ||
	    store_crl_next_number(st, tenant, &number) == -1)
		goto done;
	out->der = ca_crl(ca->ca, l.r, l.n, now, now + validity, number, &out->der_len, errstr);
	if (out->der == NULL)
		goto done;
	out->number = number;
	out->this_update = (uint64_t)now;
	out->next_update = (uint64_t)(now + validity);
	out->rev_gen = gen;
	if (store_crl_put(st, tenant, out) == -1) {
		*errstr = "cannot store the CRL";
		goto done;
	}
	log_info("tenant %s: CRL %llu with %zu revoked certificates", tenant,
	    (unsigned long long)number, l.n);
	rc = 0;
done:
	for (size_t i = 0; i < l.n; i++)
		free((char *)l.r[i].serial);
	free(l.r);
	if (rc == -1)
		store_crlrec_clear(out);
	return rc;
}

static void
do_crl(struct casvc *s, const struct ca_request *rq, struct ca_reply *rp)
{
	struct crlrec r = { 0 };
	const char *errstr;

	if (crl_current(s, rq->tenant, (int)rq->force, &r, &errstr) == -1) {
		fail(rp, errstr);
		return;
	}
	rp->ok = 1;
	rp->crl = r.der;
	rp->crl_len = r.der_len;
	rp->crl_number = r.number;
	r.der = NULL;
	store_crlrec_clear(&r);
}

static void
do_revoke(struct casvc *s, const struct ca_request *rq, struct ca_reply *rp)
{
	struct audit_entry ae;
	char serial[48];
	int rc;

	if (rq->serial == NULL || ca_serial_normalise(rq->serial, serial) == -1) {
		fail(rp, "a serial is hexadecimal, as openssl x509 -serial prints it");
		return;
	}
	if (rq->reason > 10 || ca_reason_code(ca_reason_name((int)rq->reason)) != (int)rq->reason) {
		fail(rp, "unknown revocation reason");
		return;
	}
	audit_entry_make(&ae, "cert.revoke", "serial", serial, "reason",
	    ca_reason_name((int)rq->reason), "actor", rq->actor, "sudo_user", rq->sudo_user,
	    "ip", rq->ip, NULL);
	rc = store_cert_revoke(s->conf->st, rq->tenant, serial, (int)rq->reason, clock_now(), &ae,
	    &rp->user);
	if (rc < 0) {
		fail(rp, "storage error");
		return;
	}
	if (rc == 0) {
		fail(rp, "no certificate with that serial");
		return;
	}
	if (rc == 1)
		audit_entry_log(&ae, rq->tenant);
	rp->status = (uint64_t)rc;
	rp->serial = xstrdup(serial);
	/* The CRL follows the change at once. */
	do_crl(s, &(struct ca_request){ .tenant = rq->tenant }, rp);
	if (rp->ok)
		rp->status = (uint64_t)rc;
}

static void
do_issue(struct casvc *s, const struct ca_request *rq, struct ca_reply *rp)
{
	struct store *st = s->conf->st;
	struct user u = { 0 };
	struct loaded_ca *ca;
	struct ca_issued is = { 0 };
	struct devcert c = { 0 };
	struct audit_entry ae;
	EVP_PKEY *key = NULL;
	char msg[160];
	const char *errstr;
	int64_t now = clock_now();
	int active;

	if (ca_check_label(rq->label, &errstr) == -1 ||
	    (rq->csr == NULL && ca_check_password(rq->password, &errstr) == -1)) {
		fail(rp, errstr);
		return;
	}
	if (rq->user == NULL || store_user_get(st, rq->tenant, rq->user, &u) != 1) {
		fail(rp, "no such user");
		return;
	}
	if (u.disabled) {
		fail(rp, "the user is disabled");
		goto done;
	}
	if ((ca = get_ca(s, rq->tenant, &errstr)) == NULL) {
		fail(rp, errstr);
		goto done;
	}
	/* An early answer; the cap is enforced again as the record commits. */
	if ((active = store_cert_active(st, rq->tenant, u.id, now)) >= STORE_CERT_CAP) {
		snprintf(msg, sizeof(msg), "user %s already has %d active device certificates (the "
		    "limit is %d): revoke one first", u.name, active, STORE_CERT_CAP);
		fail(rp, msg);
		rp->limit = 1;
		goto done;
	}
	/* The same for the licence's device seats (a user's first active certificate). */
	if (active == 0 && store_device_seat_full(st, rq->tenant, now) == 1 &&
	    store_licence_refusal(st, rq->tenant, store_err_device_seats, now, msg, sizeof(msg))) {
		fail(rp, msg);
		rp->limit = 1;
		goto done;
	}
	key = rq->csr ? ca_csr_public_key(rq->csr, strlen(rq->csr), &errstr) :
	    ca_device_key(&errstr);
	if (key == NULL) {
		fail(rp, errstr);
		goto done;
	}
	if (ca_issue(ca->ca, key, rq->tenant, u.name, rq->label, now, &is, &errstr) == -1) {
		fail(rp, errstr);
		goto done;
	}
	if (!rq->csr && (rp->p12 = ca_pkcs12(key, is.pem, ca->cert_pem, rq->password,
	    rq->label, (int)rq->legacy, &rp->p12_len, &errstr)) == NULL) {
		fail(rp, errstr);
		goto done;
	}
	c.serial = is.serial;
	c.user = u.name;
	c.user_id = u.id;
	c.label = rq->label;
	c.fingerprint = is.fingerprint;
	c.issued = (uint64_t)now;
	c.not_before = (uint64_t)is.not_before;
	c.not_after = (uint64_t)is.not_after;
	c.der = is.der;
	c.der_len = is.der_len;
	audit_entry_make(&ae, "cert.issue", "user", u.name, "serial", is.serial, "label",
	    rq->label, "method", rq->csr ? "csr" : "pkcs12", "actor", rq->actor, "sudo_user",
	    rq->sudo_user, "ip", rq->ip, NULL);
	/* Nothing leaves this process unless the record committed under the cap. */
	if (store_cert_add(st, rq->tenant, &c, now, STORE_CERT_CAP, &ae, &errstr) == -1) {
		if (store_licence_refusal(st, rq->tenant, errstr, now, msg, sizeof(msg))) {
			fail(rp, msg);
			rp->limit = 1;
		} else if (strstr(errstr, "limit")) {
			snprintf(msg, sizeof(msg), "user %s already has %d active device "
			    "certificates (the limit is %d): revoke one first", u.name,
			    STORE_CERT_CAP, STORE_CERT_CAP);
			fail(rp, msg);
			rp->limit = 1;
		} else {
			fail(rp, errstr);
		}
		free(rp->p12);
		rp->p12 = NULL;
		rp->p12_len = 0;
		goto done;
	}
	audit_entry_log(&ae, rq->tenant);
	rp->ok = 1;
	rp->serial = xstrdup(is.serial);
	rp->fingerprint = xstrdup(is.fingerprint);
	rp->not_before = (uint64_t)is.not_before;
	rp->not_after = (uint64_t)is.not_after;
	rp->cert_pem = is.pem;
	is.pem = NULL;
done:
	EVP_PKEY_free(key);	/* the device key of a PKCS#12 file is freed with it */
	ca_issued_clear(&is);
	store_user_clear(&u);
}

static void
handle(struct casvc *s, const struct ca_request *rq, struct ca_reply *rp)
{
	memset(rp, 0, sizeof(*rp));
	if (rq->tenant == NULL || !store_valid_name(rq->tenant, 63)) {
		fail(rp, "bad tenant id");
		return;
	}
	switch (rq->op) {
	case CA_OP_CREATE:
		do_create(s, rq, rp);
		break;
	case CA_OP_ISSUE:
		do_issue(s, rq, rp);
		break;
	case CA_OP_REVOKE:
		do_revoke(s, rq, rp);
		break;
	case CA_OP_CRL:
		do_crl(s, rq, rp);
		break;
	default:
		fail(rp, "unknown request");
	}
}

static void
refresh_tenant(struct casvc *s, const char *tenant)
{
	struct crlrec r = { 0 };
	struct find_ca f = { 0 };
	const char *errstr;

	/* Tenants without a CA (made before device certificates) have no CRL. */
	if (store_key_list(s->conf->st, tenant, "ca", find_ca_cb, &f) < 0 || !f.found) {
		store_keyrec_clear(&f.k);
		return;
	}
	store_keyrec_clear(&f.k);
	if (crl_current(s, tenant, 0, &r, &errstr) == -1)
		log_error("tenant %s: CRL refresh failed: %s", tenant, errstr);
	store_crlrec_clear(&r);
}

/* A refresh writes: not from inside the read transaction of a tenant listing. */
static void
refresh_all(struct casvc *s)
{
	char **ids;

	if (store_tenant_ids(s->conf->st, &ids) == -1)
		return;
	for (char **id = ids; *id; id++)
		refresh_tenant(s, *id);
	store_strv_free(ids);
}

int
casvc_serve(int fd, const struct casvc_conf *conf, volatile sig_atomic_t *stop)
{
	struct casvc s = { .conf = conf };
	int64_t next = 0;
	struct buf in, out;
	int rc = 0;

	buf_init(&in, 0);
	buf_init(&out, 0);
	while (stop == NULL || !*stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int timeout = -1, n;

		if (conf->refresh_every > 0) {
			if (clock_mono_ms() >= next) {
				refresh_all(&s);
				next = clock_mono_ms() + conf->refresh_every * 1000;
			}
			timeout = 1000;
		}
		if (fd == -1) {
			if (timeout == -1)
				break;
			poll(NULL, 0, timeout);
			continue;
		}
		if ((n = poll(&p, 1, timeout)) == -1 && errno != EINTR) {
			rc = -1;
			break;
		}
		if (n <= 0)
			continue;
		{
			struct ca_request rq = { 0 };
			struct ca_reply rp = { 0 };
			int r = ipc_recv(fd, &in, IPC_MAX_MESSAGE);
			if (r == 0 && conf->refresh_every > 0) {
				/* The daemon's worker died: refresh until the supervisor ends us. */
				fd = -1;
				continue;
			}
			if (r == 0)
				break;
			if (r == -1 || rec_decode(request_fields, &rq, in.data, in.len) == -1) {
				rc = -1;
				break;
			}
			handle(&s, &rq, &rp);
			buf_free(&out);	/* rec_encode starts a new buffer: the old one would leak */
			rec_encode(reply_fields, 1, &rp, &out);
			ca_request_clear(&rq);
			ca_reply_clear(&rp);
			if (ipc_send(fd, out.data, out.len) == -1) {
				rc = -1;
				break;
			}
		}
	}
	buf_free(&in);
	buf_free(&out);
	while (s.cas) {
		struct loaded_ca *l = s.cas;
		s.cas = l->next;
		ca_free(l->ca);
		free(l->tenant);
		free(l->kid);
		free(l->cert_pem);
		free(l);
	}
	return rc;
}

/* ---- client ---- */

struct ca_client {
	int fd;
	pid_t pid;
};

struct ca_client *
ca_client_new(int fd, pid_t pid)
{
	struct ca_client *c = xcalloc(1, sizeof(*c));

	c->fd = fd;
	c->pid = pid;
	return c;
}

void
ca_client_set_fd(struct ca_client *c, int fd)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = fd;
}

int
ca_client_call(struct ca_client *c, const struct ca_request *rq, struct ca_reply *rp)
{
	struct buf b;
	int rc = -1;

	memset(rp, 0, sizeof(*rp));
	buf_init(&b, 0);
	rec_encode(request_fields, 1, rq, &b);
	if (ipc_send(c->fd, b.data, b.len) == 0 && ipc_recv(c->fd, &b, IPC_MAX_MESSAGE) == 1 &&
	    rec_decode(reply_fields, rp, b.data, b.len) == 0)
		rc = 0;
	buf_free(&b);
	return rc;
}

int
ca_client_close(struct ca_client *c)
{
	int status = 0;
	pid_t w;

	if (c == NULL)
		return 0;
	if (c->fd != -1)
		close(c->fd);
	if (c->pid <= 0) {
		free(c);
		return 0;
	}
	while ((w = waitpid(c->pid, &status, 0)) == -1 && errno == EINTR)
		;
	free(c);
	return w == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
