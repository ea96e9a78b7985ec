/*
 * The settings table of sekishod.conf and its loading.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ipnet.h"
#include "settings.h"
#include "url.h"
#include "xmalloc.h"

#define S(key, type, member, def, min, max) \
	{ key, type, offsetof(struct settings, member), def, min, max }

static const struct conf_entry table[] = {
	S("url", CONF_STRING, url, NULL, 0, 0),
	S("listen", CONF_STRING, listen, NULL, 0, 0),
	S("tls", CONF_BOOL, tls, "yes", 0, 0),
	S("tls_cert", CONF_STRING, tls_cert, NULL, 0, 0),
	S("tls_key", CONF_STRING, tls_key, NULL, 0, 0),
	S("user", CONF_STRING, user, NULL, 0, 0),
	S("ca_user", CONF_STRING, ca_user, NULL, 0, 0),
	S("log_level", CONF_STRING, log_level, "info", 0, 0),
	S("threads", CONF_INT, threads, "0", 0, 256),
	S("max_connections", CONF_INT, max_connections, "1024", 1, 65536),
	S("max_connections_per_ip", CONF_INT, max_connections_per_ip, "128", 1, 65536),
	S("connection_timeout", CONF_DURATION, connection_timeout, "30s", 1, 3600),
	S("connection_memory", CONF_SIZE, connection_memory, "32k", 8192, 1048576),
	S("max_body", CONF_SIZE, max_body, "256k", 4096, 16777216),
	S("map_size", CONF_SIZE, map_size, "64m", 1048576, 1LL << 40),
	S("map_size_max", CONF_SIZE, map_size_max, "16g", 1048576, 1LL << 44),
	S("session_idle_timeout", CONF_DURATION, session_idle_timeout, "2h", 60, 30 * 86400),
	S("session_max_lifetime", CONF_DURATION, session_max_lifetime, "12h", 60, 90 * 86400),
	S("argon2_t_cost", CONF_INT, argon2_t_cost, "2", 1, 100),
	S("argon2_m_cost", CONF_SIZE, argon2_m_cost, "19m", 8192, 4LL << 30),
	S("argon2_parallelism", CONF_INT, argon2_parallelism, "1", 1, 64),
	S("login_failure_window", CONF_DURATION, login_failure_window, "15m", 60, 86400),
	S("login_user_backoff_after", CONF_INT, login_user_backoff_after, "3", 1, 1000),
	S("login_user_lockout_after", CONF_INT, login_user_lockout_after, "10", 1, 10000),
	S("login_lockout_time", CONF_DURATION, login_lockout_time, "15m", 1, 86400),
	S("login_ip_lockout_after", CONF_INT, login_ip_lockout_after, "100", 1, 1000000),
	S("login_with", CONF_STRING, login_with, "name,email", 0, 0),
	S("saml_assertion_lifetime", CONF_DURATION, saml_assertion_lifetime, "5m", 30, 300),
	S("saml_clock_skew", CONF_DURATION, saml_clock_skew, "3m", 0, 600),
	S("saml_max_message", CONF_SIZE, saml_max_message, "256k", 4096, 4194304),
	S("pending_login_lifetime", CONF_DURATION, pending_login_lifetime, "15m", 60, 86400),
	S("audit_retention", CONF_DURATION, audit_retention, "396d", 86400, 3650 * 86400LL),
	S("oidc_code_lifetime", CONF_DURATION, oidc_code_lifetime, "60s", 10, 600),
	S("oidc_id_token_lifetime", CONF_DURATION, oidc_id_token_lifetime, "1h", 60, 86400),
	S("oidc_access_token_lifetime", CONF_DURATION, oidc_access_token_lifetime, "15m", 60,
	    86400),
	S("oidc_refresh_token_lifetime", CONF_DURATION, oidc_refresh_token_lifetime, "30d", 300,
	    365 * 86400LL),
	S("oidc_assertion_max_lifetime", CONF_DURATION, oidc_assertion_max_lifetime, "10m", 60,
	    3600),
	S("oidc_key_retire_after", CONF_DURATION, oidc_key_retire_after, "2d", 3600,
	    365 * 86400LL),
	S("oidc_backchannel_timeout", CONF_DURATION, oidc_backchannel_timeout, "5s", 1, 60),
	S("templates_dir", CONF_STRING, templates_dir, NULL, 0, 0),
	S("catalog_dir", CONF_STRING, catalog_dir, NULL, 0, 0),
	S("device_listen", CONF_STRING, device_listen, NULL, 0, 0),
	S("device_url", CONF_STRING, device_url, NULL, 0, 0),
	S("device_tls", CONF_BOOL, device_tls, "yes", 0, 0),
	S("device_tls_cert", CONF_STRING, device_tls_cert, NULL, 0, 0),
	S("device_tls_key", CONF_STRING, device_tls_key, NULL, 0, 0),
	S("device_proxy_header", CONF_STRING, device_proxy_header, NULL, 0, 0),
	S("device_proxy_from", CONF_STRING, device_proxy_from, NULL, 0, 0),
	S("trusted_proxies", CONF_STRING, trusted_proxies, NULL, 0, 0),
	S("device_check_lifetime", CONF_DURATION, device_check_lifetime, "5m", 30, 3600),
	S("crl_validity", CONF_DURATION, crl_validity, "7d", 3600, 90 * 86400LL),
	S("saml_device_authn_context", CONF_STRING, saml_device_authn_context,
	    "urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient", 0, 0),
	S("smtp_relay", CONF_STRING, smtp_relay, NULL, 0, 0),
	S("smtp_from", CONF_STRING, smtp_from, NULL, 0, 0),
	S("smtp_tls", CONF_STRING, smtp_tls, "starttls", 0, 0),
	S("smtp_ca_file", CONF_STRING, smtp_ca_file, NULL, 0, 0),
	S("smtp_timeout", CONF_DURATION, smtp_timeout, "20s", 1, 300),
	S("cracklib_dict", CONF_STRING, cracklib_dict, NULL, 0, 0),
	S("report_dir", CONF_STRING, report_dir, NULL, 0, 0),
	S("report_lang", CONF_STRING, report_lang, "ja", 0, 0),
	S("backup_time", CONF_STRING, backup_time, NULL, 0, 0),
	S("backup_dir", CONF_STRING, backup_dir, NULL, 0, 0),
	S("backup_keep", CONF_INT, backup_keep, "7", 1, 1000),
	S("audit_syslog", CONF_BOOL, audit_syslog, "no", 0, 0),
	S("audit_syslog_facility", CONF_STRING, audit_syslog_facility, "authpriv", 0, 0),
	S("audit_syslog_socket", CONF_STRING, audit_syslog_socket, "/dev/log", 0, 0),
	S("audit_file", CONF_STRING, audit_file, NULL, 0, 0),
	S("metrics_from", CONF_STRING, metrics_from, "127.0.0.0/8 ::1", 0, 0),
	S("metrics_listen", CONF_STRING, metrics_listen, NULL, 0, 0),
	{ NULL, CONF_STRING, 0, NULL, 0, 0 }
};

/* backup_time is HH:MM (24-hour); backup_dir defaults to DIR/backups. */
static int
backup_settings(const char *path, const char *dir, struct settings *s, struct buf *err)
{
	const char *t = s->backup_time;

	if (t && (strlen(t) != 5 || t[2] != ':' || strspn(t, "0123456789") != 2 ||
	    strspn(t + 3, "0123456789") != 2 || (t[0] - '0') * 10 + (t[1] - '0') > 23 ||
	    t[3] > '5')) {
		buf_printf(err, "%s: backup_time must be HH:MM, such as 03:30\n", path);
		return -1;
	}
	if (s->backup_dir == NULL)
		s->backup_dir = xasprintf("%s/backups", dir);
	return 0;
}

/* audit_syslog_facility by name, as syslog.conf spells it; the number goes to the PRI. */
static int
audit_settings(const char *path, struct settings *s, struct buf *err)
{
	static const char *const names[] = { "user", "daemon", "auth", "authpriv", "local0",
		"local1", "local2", "local3", "local4", "local5", "local6", "local7" };
	static const int codes[] = { 1, 3, 4, 10, 16, 17, 18, 19, 20, 21, 22, 23 };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(s->audit_syslog_facility, names[i])) {
			s->audit_syslog_code = codes[i];
			return 0;
		}
	buf_printf(err, "%s: audit_syslog_facility must be user, daemon, auth, authpriv or "
	    "local0 to local7\n", path);
	return -1;
}

/* smtp_*: a relay HOST:PORT, a sender address, and how to talk TLS to it. */
static int
smtp_settings(const char *path, const struct settings *s, struct buf *err)
{
	const char *colon = s->smtp_relay ? strrchr(s->smtp_relay, ':') : NULL;

	if (strcmp(s->smtp_tls, "starttls") && strcmp(s->smtp_tls, "tls") &&
	    strcmp(s->smtp_tls, "none")) {
		buf_printf(err, "%s: smtp_tls must be starttls, tls or none\n", path);
		return -1;
	}
	if (s->smtp_relay == NULL)
		return 0;
	if (colon == NULL || colon == s->smtp_relay || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || strlen(colon + 1) > 5) {
		buf_printf(err, "%s: smtp_relay must be HOST:PORT\n", path);
		return -1;
	}
	if (s->smtp_from == NULL || strchr(s->smtp_from, '@') == NULL ||
	    strpbrk(s->smtp_from, " <>\r\n") != NULL) {
		buf_printf(err, "%s: smtp_relay needs smtp_from, a plain address such as "
		    "sso@example.jp\n", path);
		return -1;
	}
	return 0;
}

/* The device-check listener: its address, public URL and proxy trust. */
static int
device_settings(const char *path, struct settings *s, struct buf *err)
{
	char *host = NULL, *port = NULL, *dhost = NULL, *dport = NULL;
	struct ipnet_list nets;
	const char *e, *colon;
	int rc = -1;

	if (s->device_listen == NULL) {
		if (s->device_url || s->device_proxy_header || s->device_proxy_from) {
			buf_printf(err, "%s: device_url and device_proxy_* need device_listen\n", path);
			return -1;
		}
		return 0;
	}
	if ((colon = strrchr(s->device_listen, ':')) == NULL || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
		buf_printf(err, "%s: device_listen must be HOST:PORT\n", path);
		return -1;
	}
	if (s->device_listen && s->listen && !strcmp(s->device_listen, s->listen)) {
		buf_printf(err, "%s: device_listen must differ from listen\n", path);
		return -1;
	}
	if (s->device_url == NULL) {
		if (url_https_authority(s->url, &host, &port) == -1)
			goto done;
		s->device_url = xasprintf("https://%s%s%s:%s", strchr(host, ':') ? "[" : "", host,
		    strchr(host, ':') ? "]" : "", colon + 1);
	}
	if (s->device_url[strlen(s->device_url) - 1] == '/')
		s->device_url[strlen(s->device_url) - 1] = '\0';
	if (url_https_authority(s->device_url, &dhost, &dport) == -1) {
		buf_printf(err, "%s: device_url must be https://HOST[:PORT] without a path\n", path);
		goto done;
	}
	if (!strcmp(s->device_url, s->url)) {
		buf_printf(err, "%s: device_url must differ from url (its own port or host name, "
		    "so only device logins see a certificate request)\n", path);
		goto done;
	}
	if ((s->device_proxy_header == NULL) != (s->device_proxy_from == NULL)) {
		buf_printf(err, "%s: device_proxy_header and device_proxy_from go together\n", path);
		goto done;
	}
	if (s->device_proxy_from && ipnet_parse(s->device_proxy_from, &nets, &e) == -1) {
		buf_printf(err, "%s: device_proxy_from: %s\n", path, e);
		goto done;
	}
	if (s->device_proxy_header && (strlen(s->device_proxy_header) > 64 ||
	    strspn(s->device_proxy_header, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-") != strlen(s->device_proxy_header))) {
		buf_printf(err, "%s: device_proxy_header must be a header name\n", path);
		goto done;
	}
	if (!s->device_tls && s->device_proxy_header == NULL) {
		buf_printf(err, "%s: device_tls off needs device_proxy_header (the certificate "
		    "must come from somewhere)\n", path);
		goto done;
	}
	if ((s->device_tls_cert == NULL) != (s->device_tls_key == NULL)) {
		buf_printf(err, "%s: device_tls_cert and device_tls_key go together\n", path);
		goto done;
	}
	rc = 0;
done:
	free(host);
	free(port);
	free(dhost);
	free(dport);
	return rc;
}

/* trusted_proxies: a list of addresses and networks. */
static int
proxy_settings(const char *path, const struct settings *s, struct buf *err)
{
	struct ipnet_list nets;
	const char *e;

	if (s->trusted_proxies && ipnet_parse(s->trusted_proxies, &nets, &e) == -1) {
		buf_printf(err, "%s: trusted_proxies: %s\n", path, e);
		return -1;
	}
	if (ipnet_parse(s->metrics_from, &nets, &e) == -1) {
		buf_printf(err, "%s: metrics_from: %s\n", path, e);
		return -1;
	}
	return 0;
}

/* "name", "email" or both, comma-separated: whether the name counts (-1: bad value). */
static int
login_with(const char *v, int *email_r)
{
	int name = 0;

	*email_r = 0;
	for (const char *p = v; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		size_t n = strcspn(p, ",");
		if (n == 4 && !strncmp(p, "name", 4))
			name = 1;
		else if (n == 5 && !strncmp(p, "email", 5))
			*email_r = 1;
		else
			return -1;
	}
	return name || *email_r ? name : -1;
}

int
settings_load(const char *dir, struct settings *s, struct buf *err)
{
	const struct conf_entry *const tables[] = { table, NULL };
	void *const objs[] = { s, NULL };
	char *path = xasprintf("%s/sekishod.conf", dir);
	int rc;

	memset(s, 0, sizeof(*s));
	conf_defaults(table, s);
	rc = conf_load(path, tables, objs, err);
	if (rc == 0 && s->url == NULL) {
		buf_printf(err, "%s: url is required\n", path);
		rc = -1;
	}
	if (rc == 0) {
		char *host, *port;
		if (url_https_authority(s->url, &host, &port) == -1) {
			buf_printf(err, "%s: url must be https://HOST[:PORT] without a path\n", path);
			rc = -1;
		} else {
			free(host);
			free(port);
		}
	}
	if (rc == 0 && s->url[strlen(s->url) - 1] == '/')
		s->url[strlen(s->url) - 1] = '\0';
	if (rc == 0 && s->map_size > s->map_size_max) {
		buf_printf(err, "%s: map_size is larger than map_size_max\n", path);
		rc = -1;
	}
	if (rc == 0 && s->log_level && strcmp(s->log_level, "error") && strcmp(s->log_level, "warn") &&
	    strcmp(s->log_level, "info") && strcmp(s->log_level, "debug")) {
		buf_printf(err, "%s: log_level must be error, warn, info or debug\n", path);
		rc = -1;
	}
	if (rc == 0 && s->oidc_key_retire_after < s->oidc_id_token_lifetime + 3600) {
		buf_printf(err, "%s: oidc_key_retire_after must exceed the ID token lifetime by an "
		    "hour (tokens are verified with retired keys until they expire)\n", path);
		rc = -1;
	}
	if (rc == 0 && (s->login_by_name = login_with(s->login_with, &s->login_by_email)) < 0) {
		buf_printf(err, "%s: login_with must be name, email or name,email\n", path);
		rc = -1;
	}
	if (rc == 0 && s->ca_user && (s->user == NULL || !strcmp(s->ca_user, s->user))) {
		buf_printf(err, "%s: ca_user must be another user than user (the worker's), "
		    "which must be set too\n", path);
		rc = -1;
	}
	if (rc == 0 && device_settings(path, s, err) == -1)
		rc = -1;
	if (rc == 0 && proxy_settings(path, s, err) == -1)
		rc = -1;
	if (rc == 0 && smtp_settings(path, s, err) == -1)
		rc = -1;
	if (rc == 0 && strcmp(s->report_lang, "ja") && strcmp(s->report_lang, "en")) {
		buf_printf(err, "%s: report_lang must be ja or en\n", path);
		rc = -1;
	}
	if (rc == 0 && s->report_dir == NULL)
		s->report_dir = xasprintf("%s/reports", dir);
	if (rc == 0 && backup_settings(path, dir, s, err) == -1)
		rc = -1;
	if (rc == 0 && audit_settings(path, s, err) == -1)
		rc = -1;
	if (rc == 0 && s->tls_cert == NULL)
		s->tls_cert = xasprintf("%s/tls/server.crt", dir);
	if (rc == 0 && s->tls_key == NULL)
		s->tls_key = xasprintf("%s/tls/server.key", dir);
	free(path);
	return rc;
}

void
settings_free(struct settings *s)
{
	conf_free(table, s);
}

const char *const *
settings_keys(void)
{
	static const char *keys[sizeof(table) / sizeof(table[0])];

	for (size_t i = 0; table[i].key; i++)
		keys[i] = table[i].key;
	return keys;
}
