/*
 * Pieces of token minting shared by the OIDC endpoints.
 */
#ifndef SEKISHO_OIDC_TOKEN_H
#define SEKISHO_OIDC_TOKEN_H

#include "oidc.h"

/* What a set of tokens is about (borrowed strings). */
struct grant_info {
	const char *family;	/* the grant; NULL for client_credentials */
	const char *user_id;
	const char *sub;
	const char *scope;
	const char *sid;
	const char *amr;
	const char *acr;
	const char *device;	/* device certificate serial, when one was checked */
	uint64_t auth_time;
};

/* Add the claims the scope releases (profile, email, groups) for user u. */
void oidc_user_claims(struct idp *idp, struct tenant_ctx *t, json_t *claims, const char *scope,
    const struct user *u);

#endif
