/*
 * Pieces of token minting shared by the OIDC endpoints.
 */
#ifndef SEKISHO_OIDC_TOKEN_H
#define SEKISHO_OIDC_TOKEN_H

#include "oidc.h"

/* What a set of tokens is about (borrowed strings). */
struct grant_info {
	const char *family;	/* the grant; NULL for client_credentials */
	const char *user_name;
	const char *sub;
	const char *scope;
	const char *sid;
	const char *amr;
	const char *acr;
	const char *device;	/* device certificate serial, when one was checked */
	uint64_t auth_time;
};

/* The sub of a user: its immutable id (a new string), or NULL if there is no such user. */
char *oidc_subject(struct idp *idp, struct tenant_ctx *t, const char *user);
/* Add the claims the scope releases (profile, email, groups) for user u. */
void oidc_user_claims(struct idp *idp, struct tenant_ctx *t, json_t *claims, const char *scope,
    const struct user *u);

#endif
