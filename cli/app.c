/*
 * sekisho app: SAML service providers and OpenID Connect clients of a tenant.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "jose.h"
#include "saml.h"
#include "spmeta.h"
#include "store.h"
#include "xmalloc.h"

static void
print_app(const void *rec, void *arg)
{
	const struct app *a = rec;
	printf("%s\t%s\t%s\t%s\n", a->name, a->type, a->entity_id ? a->entity_id : "-",
	    a->nameid_format ? a->nameid_format : "-");
}

static int
app_add_saml(struct cli *c, const char *const *v)
{
	const char *name = arg(c, 0, v), *file = opt(c, "--metadata"), *err;
	const char *nameid = opt(c, "--nameid") ? opt(c, "--nameid") : "persistent";
	struct spmeta m;
	struct app a = { 0 };
	char *xml;
	size_t len;
	int rc;

	if (name == NULL || file == NULL)
		usage();
	if (!store_valid_name(name, 64))
		return fail("app name must be 1-64 characters of a-z A-Z 0-9 . _ @ + -");
	if (strcmp(nameid, "persistent") && strcmp(nameid, "transient") && strcmp(nameid, "email"))
		return fail("--nameid must be persistent, transient or email");
	if ((xml = slurp(file, SPMETA_MAX_SIZE, &len, &err)) == NULL)
		return fail("%s: %s", file, err);
	if (saml_global_init() == -1)
		return fail("lasso initialisation failed");
	if (spmeta_parse(xml, len, &m, &err) == -1 || saml_sp_metadata_check(xml, &err) == -1) {
		free(xml);
		return fail("%s: %s", file, err);
	}
	a.name = (char *)name;
	a.type = "saml";
	a.entity_id = m.entity_id;
	a.metadata = xml;
	a.nameid_format = (char *)nameid;
	a.created = (uint64_t)clock_now();
	a.sign_response = flag(c, "--sign-response");
	rc = store_app_add(c->in.store, c->tenant, &a, NULL, &err);
	if (rc == 0)
		printf("app %s added (SAML SP %s, NameID %s%s%s)\n", name, m.entity_id, nameid,
		    m.has_slo ? "" : ", no Single Logout endpoint",
		    m.authn_requests_signed ? ", signed requests required" : "");
	spmeta_clear(&m);
	free(xml);
	return rc == 0 ? 0 : fail("app %s: %s", name, err);
}

/*
 * A client URI: absolute https (http only to a loopback host, for local tools), no
 * fragment, no user info, no white space; compared byte for byte later.
 */
static int
uri_ok(const char *u)
{
	const char *h, *end;
	int https = !strncmp(u, "https://", 8);

	if (strlen(u) > 2048 || strchr(u, '#') || strpbrk(u, " \t\r\n\\<>\"") ||
	    (!https && strncmp(u, "http://", 7)))
		return 0;
	h = u + (https ? 8 : 7);
	end = h + strcspn(h, "/?");
	if (end == h || memchr(h, '@', (size_t)(end - h)))
		return 0;
	if (https)
		return 1;
	return !strncmp(h, "127.0.0.1", 9) && (h[9] == ':' || h + 9 == end) ? 1 :
	    !strncmp(h, "[::1]", 5) && (h[5] == ':' || h + 5 == end) ? 1 :
	    !strncmp(h, "localhost", 9) && (h[9] == ':' || h + 9 == end);
}

static int
uris_ok(const char *list, const char *what)
{
	char *copy = xstrdup(list ? list : ""), *p = copy;
	int ok = 1;

	while (ok && *p) {
		size_t n = strcspn(p, "\n");
		char save = p[n];
		p[n] = '\0';
		if (!uri_ok(p)) {
			fail("%s %s: must be https (http only for 127.0.0.1, [::1] or localhost), "
			    "absolute, without fragment or user info", what, p);
			ok = 0;
		}
		p += n + (save == '\n');
	}
	free(copy);
	return ok;
}

static char *
random_id(size_t n, int url)
{
	unsigned char raw[32];
	char *s;

	crypto_random(raw, n);
	s = url ? b64url_encode(raw, n) : b64_encode(raw, n);
	explicit_bzero(raw, sizeof(raw));
	return s;
}

static int
oidc_settings_ok(struct cli *c, struct app *a)
{
	const char *auth = a->auth_method, *grants = a->grant_types;

	if (strcmp(auth, "client_secret_basic") && strcmp(auth, "client_secret_post") &&
	    strcmp(auth, "private_key_jwt") && strcmp(auth, "none"))
		return fail("--auth must be client_secret_basic, client_secret_post or "
		    "private_key_jwt");
	if (strcmp(a->id_token_alg, "RS256") && strcmp(a->id_token_alg, "ES256"))
		return fail("--id-token-alg must be RS256 or ES256");
	if (strcmp(a->access_token_format, "jwt") && strcmp(a->access_token_format, "opaque"))
		return fail("--access-token must be jwt or opaque");
	for (const char *p = grants; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		size_t n = strcspn(p, ",");
		if (!(n == 18 && !strncmp(p, "authorization_code", n)) &&
		    !(n == 13 && !strncmp(p, "refresh_token", n)) &&
		    !(n == 18 && !strncmp(p, "client_credentials", n)))
			return fail("--grant: authorization_code, refresh_token, client_credentials");
	}
	if (!strcmp(auth, "none") && strstr(grants, "client_credentials"))
		return fail("a public client cannot use client_credentials");
	if (strstr(grants, "authorization_code") && a->redirect_uris == NULL)
		return fail("--redirect-uri is required for the authorization code flow");
	if (!uris_ok(a->redirect_uris, "redirect URI") ||
	    !uris_ok(a->logout_uris, "post-logout redirect URI") ||
	    !uris_ok(a->backchannel_uri, "back-channel logout URI"))
		return 1;
	return 0;
}

static int
app_add_oidc(struct cli *c, const char *const *v)
{
	const char *name = arg(c, 0, v), *jwks_file = opt(c, "--jwks"), *err;
	struct app a = { 0 };
	char *secret = NULL, *jwks = NULL;
	size_t len;
	int rc = 1;

	if (name == NULL)
		usage();
	if (!store_valid_name(name, 64))
		return fail("app name must be 1-64 characters of a-z A-Z 0-9 . _ @ + -");
	a.name = (char *)name;
	a.type = "oidc";
	a.auth_method = (char *)(flag(c, "--public") ? "none" : opt(c, "--auth") ?
	    opt(c, "--auth") : "client_secret_basic");
	a.id_token_alg = (char *)(opt(c, "--id-token-alg") ? opt(c, "--id-token-alg") : "RS256");
	a.access_token_format = (char *)(opt(c, "--access-token") ? opt(c, "--access-token") :
	    "jwt");
	a.grant_types = (char *)(opt(c, "--grant") ? opt(c, "--grant") :
	    "authorization_code,refresh_token");
	a.redirect_uris = opt_all(c, "--redirect-uri");
	a.logout_uris = opt_all(c, "--post-logout-redirect-uri");
	a.backchannel_uri = (char *)opt(c, "--backchannel-logout-uri");
	if (flag(c, "--public") && opt(c, "--auth"))
		return fail("--public and --auth exclude each other");
	if (oidc_settings_ok(c, &a))
		goto done;
	if (!strcmp(a.auth_method, "private_key_jwt")) {
		struct jose_jwks *keys;
		if (jwks_file == NULL || (jwks = slurp(jwks_file, 65536, &len, &err)) == NULL) {
			fail("private_key_jwt needs --jwks FILE%s%s", jwks_file ? ": " : "",
			    jwks_file ? err : "");
			goto done;
		}
		if ((keys = jose_jwks_parse(jwks, &err)) == NULL) {
			fail("%s: %s", jwks_file, err);
			goto done;
		}
		a.assertion_alg = (char *)jose_jwks_alg(keys);
		a.assertion_alg = a.assertion_alg ? xstrdup(a.assertion_alg) : NULL;
		jose_jwks_free(keys);
		if (a.assertion_alg == NULL) {
			fail("%s: keys of one type only (RSA or P-256), so one algorithm is pinned",
			    jwks_file);
			goto done;
		}
		a.jwks = jwks;
	} else if (jwks_file) {
		fail("--jwks is for private_key_jwt");
		goto done;
	}
	a.entity_id = random_id(16, 1);
	if (!strcmp(a.auth_method, "client_secret_basic") ||
	    !strcmp(a.auth_method, "client_secret_post")) {
		unsigned char h[CRYPTO_SHA256_LEN];
		char hex[65];
		/* Standard base64: '+', '/' and '=' keep clients honest about URL-encoding. */
		secret = random_id(32, 0);
		crypto_sha256(secret, strlen(secret), h);
		hex_encode(h, sizeof(h), hex);
		a.secret_hash = xstrdup(hex);
	}
	a.created = (uint64_t)clock_now();
	if (store_app_add(c->in.store, c->tenant, &a, NULL, &err) == -1) {
		fail("app %s: %s", name, err);
		goto done;
	}
	printf("app %s added (OIDC client, %s)\nclient_id=%s\n", name, a.auth_method, a.entity_id);
	if (secret)
		printf("client_secret=%s\n", secret);
	rc = 0;
done:
	free(a.redirect_uris);
	free(a.logout_uris);
	free(a.entity_id);
	free(a.secret_hash);
	free(a.assertion_alg);
	free(jwks);
	freezero_str(secret);
	return rc;
}

int
cmd_app(struct cli *c)
{
	static const char *const v[] = { "--metadata", "--nameid", "--redirect-uri", "--auth",
		"--jwks", "--post-logout-redirect-uri", "--id-token-alg", "--access-token",
		"--backchannel-logout-uri", "--grant", NULL };
	static const char *const f[] = { "--sign-response", "--public", NULL };
	const char *sub = c->argc > 1 ? c->argv[1] : "", *name;
	int rc;

	if (check_opts(c, v, f) || !tenant_exists(c))
		return 1;
	if (!strcmp(sub, "add-saml"))
		return app_add_saml(c, v);
	if (!strcmp(sub, "add-oidc"))
		return app_add_oidc(c, v);
	if (!strcmp(sub, "list"))
		return store_app_list(c->in.store, c->tenant, print_app, NULL) < 0;
	if (!strcmp(sub, "remove") && (name = arg(c, 0, v)) != NULL) {
		if ((rc = store_app_remove(c->in.store, c->tenant, name, NULL)) != 1)
			return fail("app %s: %s", name, rc == 0 ? "no such app" : "storage error");
		printf("app %s removed\n", name);
		return 0;
	}
	usage();
}
