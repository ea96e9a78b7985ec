/*
 * URLs and addresses Sekisho checks: its public base URL (https://host[:port]), the
 * URIs an app registers (redirect, logout, assertion consumer), and listen addresses.
 */
#ifndef SEKISHO_URL_H
#define SEKISHO_URL_H

/*
 * Split an https URL without user info, path (a single trailing '/' is allowed), query or
 * fragment into new strings host (brackets removed for IPv6) and port ("443" by default).
 * 0, or -1 when the URL is not of that form.
 */
int url_https_authority(const char *url, char **host_r, char **port_r);

/*
 * The rule for every URI an app registers and Sekisho sends browsers or messages to
 * (OIDC redirect and logout URIs, SAML AssertionConsumerService and SingleLogoutService
 * locations): absolute https, http only to a loopback host (127.0.0.1, [::1], localhost)
 * for local tools, no fragment, no user info, no white space, at most 2048 bytes.
 * 0, or -1 with *errstr saying the rule (the same words for every caller).
 */
int url_check_app_uri(const char *uri, const char **errstr);

/* Whether the host of an https URL is a loopback address or name; host as split above. */
int url_host_is_loopback(const char *host);

/*
 * Split a listen address "host:port", "[v6]:port" or "*:port" (every address) into new
 * strings; host "*" stays "*".  The port is 1-65535.  0, or -1 with *errstr.
 */
int url_split_listen(const char *addr, char **host_r, char **port_r, const char **errstr);

#endif
