/*
 * sekishod.conf: every setting, its type, default and bounds in one table (settings.c);
 * docs/sekishod.conf.5 documents each key.
 */
#ifndef SEKISHO_SETTINGS_H
#define SEKISHO_SETTINGS_H

#include <stdint.h>

#include "buf.h"

struct settings {
	char *url;			/* public base URL, https://host[:port] */
	char *listen;			/* host:port to bind; default from url */
	char *tls_cert;			/* PEM files; default DIR/tls/server.{crt,key} */
	char *tls_key;
	int tls;			/* serve HTTPS (off only behind a TLS proxy) */
	char *user;			/* drop privileges to this user when started as root */
	char *ca_user;			/* the ca process's user (default: user) */
	char *log_level;
	int64_t threads;		/* 0: one per core */
	int64_t max_connections;
	int64_t max_connections_per_ip;
	int64_t connection_timeout;
	int64_t connection_memory;
	int64_t max_body;
	int64_t map_size;
	int64_t map_size_max;
	int64_t session_idle_timeout;
	int64_t session_max_lifetime;
	int64_t argon2_t_cost;
	int64_t argon2_m_cost;
	int64_t argon2_parallelism;
	int64_t login_failure_window;
	int64_t login_user_backoff_after;
	int64_t login_user_lockout_after;
	int64_t login_lockout_time;
	int64_t login_ip_lockout_after;
	char *login_with;		/* "name", "email" or "name,email" */
	int login_by_name;		/* derived from login_with */
	int login_by_email;
	int64_t saml_assertion_lifetime;
	int64_t saml_clock_skew;
	int64_t saml_max_message;
	int64_t pending_login_lifetime;
	int64_t audit_retention;
	int64_t oidc_code_lifetime;
	int64_t oidc_id_token_lifetime;
	int64_t oidc_access_token_lifetime;
	int64_t oidc_refresh_token_lifetime;
	int64_t oidc_assertion_max_lifetime;
	int64_t oidc_key_retire_after;
	int64_t oidc_backchannel_timeout;
	char *templates_dir;		/* optional directory overriding built-in pages */
	char *catalog_dir;		/* optional directory of app templates (catalog) */
	char *device_listen;		/* host:port of the device-check listener; NULL: none */
	char *device_url;		/* its public base URL; default from url and device_listen */
	int device_tls;			/* off only behind a TLS proxy that forwards the cert */
	char *device_tls_cert;		/* default: tls_cert / tls_key */
	char *device_tls_key;
	char *device_proxy_header;	/* header carrying the client certificate (PEM) */
	char *device_proxy_from;	/* addresses and networks allowed to send that header */
	char *trusted_proxies;	/* proxies whose X-Forwarded-For / Forwarded name the client */
	int64_t device_check_lifetime;	/* a device-check link is valid this long */
	int64_t crl_validity;		/* nextUpdate - thisUpdate of the CRLs */
	char *smtp_relay;		/* host:port of the mail relay; NULL: no mail */
	char *smtp_from;		/* sender address of Sekisho's mails */
	char *smtp_tls;			/* "starttls", "tls", "none" */
	char *smtp_ca_file;		/* trust anchors for the relay; NULL: the system's */
	int64_t smtp_timeout;		/* per message */
	char *cracklib_dict;		/* cracklib dictionary path; NULL: its default */
	char *saml_device_authn_context;	/* AuthnContextClassRef after a device check */
	char *report_dir;		/* monthly reports, report_dir/T/YYYY-MM; default DIR/reports */
	char *report_lang;		/* the language of the reports the server writes: ja, en */
	char *backup_time;		/* "HH:MM" server local time of the daily backup; NULL: none */
	char *backup_dir;		/* where generations go; default DIR/backups */
	int64_t backup_keep;		/* generations kept */
	int audit_syslog;		/* forward audit records to syslog */
	char *audit_syslog_facility;	/* its facility by name ("authpriv") */
	int audit_syslog_code;		/* derived: the facility's number */
	char *audit_syslog_socket;	/* the local syslog socket; default /dev/log */
	char *audit_file;		/* append audit records as JSON lines here; NULL: none */
	char *metrics_from;		/* addresses and networks that may read /metrics */
	char *metrics_listen;		/* host:port serving /metrics alone; NULL: the main one */
};

/* Defaults, then DIR/sekishod.conf.  0, or -1 with "file:line: message" lines in err. */
int settings_load(const char *dir, struct settings *s, struct buf *err);
void settings_free(struct settings *s);
/* The settings table, for documentation checks in the tests. */
const char *const *settings_keys(void);

#endif
