/*
 * The public base URL of a Sekisho: https://host[:port] and nothing else.
 */
#ifndef SEKISHO_URL_H
#define SEKISHO_URL_H

/*
 * Split an https URL without user info, path (a single trailing '/' is allowed), query or
 * fragment into new strings host (brackets removed for IPv6) and port ("443" by default).
 * 0, or -1 when the URL is not of that form.
 */
int url_https_authority(const char *url, char **host_r, char **port_r);

#endif
