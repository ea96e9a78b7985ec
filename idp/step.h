/*
 * What comes between a good password and a session: a second factor (TOTP, recovery
 * code or passkey), a factor enrolled at login when the rules allow it, a new password
 * when one must be set.  The same factor page steps an existing session up when an app
 * or a rule asks for two factors; and passwordless sign-in with a passkey.
 */
#ifndef SEKISHO_STEP_H
#define SEKISHO_STEP_H

#include "idp.h"
#include "store.h"

#define STEP_COOKIE "sekisho_step"
#define STEP_LIFETIME 600

enum step_next { STEP_FACTOR, STEP_ENROL, STEP_PASSWORD };

/*
 * The user proved methods and must do next before a session starts: remember that for
 * this browser (cookie STEP_COOKIE) and send it to the page.  Answers req.
 */
void step_begin(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct user *u, const char *methods, const char *pending, enum step_next next);
/* login/factor, login/enrol, login/password (GET and POST), login/passkey (POST). */
void step_factor(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void step_enrol(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void step_password(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void step_passkey(struct idp *idp, struct tenant_ctx *t, struct http_req *req);

/* The login page's passkey button values for the browser with pre-login cookie pre. */
struct tmpl_vars;
void step_login_vars(struct idp *idp, struct tenant_ctx *t, const char *pre,
    struct tmpl_vars *v);

#endif
