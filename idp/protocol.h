/*
 * What a sign-in protocol (SAML, OpenID Connect; later upstream IdPs) plugs into the core:
 * its paths below /t/TENANT/, its part of a tenant's context and keys, the requests it
 * parks while a user logs in, and how the apps of an ended session are told.  The core
 * fans out over the list in protocol.c; protocols never include or call each other.
 */
#ifndef SEKISHO_PROTOCOL_H
#define SEKISHO_PROTOCOL_H

#include <stddef.h>

#include "idp.h"
#include "session.h"

#define PROTOCOL_GET 1		/* GET and HEAD */
#define PROTOCOL_POST 2

typedef void (*protocol_handler_fn)(struct idp *idp, struct tenant_ctx *t,
    struct http_req *req);

struct protocol_route {
	const char *path;	/* below /t/TENANT/: exact, or one more segment if it ends in '/' */
	protocol_handler_fn fn;
	int methods;		/* PROTOCOL_GET | PROTOCOL_POST */
	int json;		/* called by programs: errors answered by json_error */
	const char *reject_event;	/* audit event for input that does not parse */
};

/* The apps of one protocol that had joined an ended session. */
struct logout_apps {
	struct session_sp *v;
	size_t n;
};

/* Who asked for a logout, and where the browser goes when it is over. */
struct logout_origin {
	const char *protocol;	/* of the app that asked, or NULL (the user, here) */
	const char *app;	/* that app's key (entity ID, client_id) */
	char *state;		/* protocol state needed to answer it (the protocol frees it) */
	const char *relay_state;
	const char *return_to;	/* where the browser goes at the end, or NULL */
};

struct protocol {
	const char *name;	/* also the app type in the store */
	/* Once per process before any thread starts, and at its end (may be NULL). */
	int (*global_init)(void);
	void (*global_shutdown)(void);
	/* Background work of the serving worker (may be NULL). */
	int (*start)(void);
	void (*stop)(void);
	const struct protocol_route *routes;	/* ends with a NULL path */
	void (*json_error)(struct http_req *req, int status, const char *detail);
	/* Its part of a tenant context (t->saml, t->oidc ...): 0 or -1. */
	int (*tenant_load)(struct idp *idp, struct tenant_ctx *t);
	void (*tenant_free)(struct tenant_ctx *t);
	/*
	 * New signing keys of tenant into out (at most max): the first ones (create) or the
	 * next ones to publish before a rotation.  How many, or -1 with *errstr.
	 */
	int (*make_keys)(struct instance *in, const char *tenant, int create, struct keyrec *out,
	    size_t max, const char **errstr);
	/* Parked requests whose kind starts with pending_prefix are resumed here. */
	const char *pending_prefix;
	void (*resume)(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
	    const struct pending *p);
	/*
	 * The parked request p was refused by the access rules when its user logged in: tell
	 * the app the protocol's way (why, and the refusal's reference code ref).  NULL: the
	 * refusal page is the answer.
	 */
	void (*refused)(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
	    const struct pending *p, const char *why, const char *ref);
	/* Where the portal starts app a (new string), or NULL when it cannot. */
	char *(*launch_url)(const struct tenant_ctx *t, const struct tenant_app *a);
	/* A session ended: tell its apps what can be told without the browser. */
	void (*ended)(struct idp *idp, struct tenant_ctx *t, const struct sso_session *ss,
	    const struct logout_apps *apps);
	/*
	 * Take the browser through its apps of the ended session, and answer origin when it
	 * is this protocol's app: 1 when it answered req (and ends with logout_finish or its
	 * own answer to origin), 0 when it has nothing to do.
	 */
	int (*front_logout)(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
	    const struct sso_session *ss, const struct logout_apps *apps,
	    struct logout_origin *origin);
};

/* The registered protocols, NULL-terminated (the list is in protocol.c). */
extern const struct protocol *const protocols[];

/* The protocol called name (an app type), or NULL. */
const struct protocol *protocol_find(const char *name);
/* The protocol that resumes parked requests of kind, or NULL. */
const struct protocol *protocol_for_pending(const char *kind);
/* Every protocol's global_init; 0, or -1 after logging which failed. */
int protocols_global_init(void);
void protocols_global_shutdown(void);
int protocols_start(void);
void protocols_stop(void);

#endif
