/*
 * The /metrics page of the daemon (metrics_page.c).
 */
#ifndef SEKISHO_METRICS_PAGE_H
#define SEKISHO_METRICS_PAGE_H

struct idp;
struct http_req;

/* Answer GET /metrics, or 403 to an address outside metrics_from. */
void metrics_page(struct idp *idp, struct http_req *req);
/* The metrics_listen server's handler (arg: the struct idp): /metrics, else 404. */
void metrics_handle(struct http_req *req, void *arg);

#endif
