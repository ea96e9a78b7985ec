/*
 * One Sekisho directory (DIR): its settings, master key and store, shared by sekishod and
 * the sekisho command line; and what creating a directory or a tenant involves.
 */
#ifndef SEKISHO_INSTANCE_H
#define SEKISHO_INSTANCE_H

#include <signal.h>

#include "buf.h"
#include "crypto.h"
#include "settings.h"
#include "store.h"

struct instance {
	char *dir;
	struct settings settings;
	struct store *store;
	unsigned char master[CRYPTO_SEAL_KEY_LEN];
};

/* Load settings and the master key, then open the store.  0 or -1 with messages in err. */
int instance_open(struct instance *in, const char *dir, struct buf *err);
/* Load settings and the master key without opening the store (the daemon's parent). */
int instance_load(struct instance *in, const char *dir, struct buf *err);
/* Open the store of a loaded instance (the daemon's worker, after dropping privileges). */
int instance_open_store(struct instance *in, struct buf *err);
void instance_close(struct instance *in);

/*
 * Create DIR with sekishod.conf, master key, database and the tenant "default".  listen
 * (NULL: every address at the URL's port, or the URL's host when that is a loopback one)
 * is written as the listen setting.
 */
int instance_init(const char *dir, const char *url, const char *listen, struct buf *err);

/* Create a tenant: its sealed secret and its SAML signing key and certificate. */
int tenant_create(struct instance *in, const char *id, const char *name, const char **errstr);
/*
 * Rotate the keys of use ("saml" or "oidc"): the published NEXT keys start signing, the
 * signing ones stay published until their tokens expire, new NEXT keys are made.
 */
int tenant_rotate_keys(struct instance *in, const char *tenant, const char *use,
    const char **errstr);
/* A 32-byte key for purpose ("nameid", "csrf", ...) derived from the tenant secret. */
int tenant_derive_key(struct instance *in, const struct tenant *t, const char *purpose,
    unsigned char out[32]);
/* Seal key_pem (a private key) into k, whose use and kid are set. */
void instance_seal_key(struct instance *in, const char *tenant, struct keyrec *k,
    const char *key_pem);
/* The unsealed private key PEM of a key record (caller frees with freezero_str), or NULL. */
char *instance_unseal_key(struct instance *in, const char *tenant, const struct keyrec *k);

/* The tenant's device CA certificate (new PEM string): 1, 0 when it has none, -1. */
int tenant_ca_pem(struct instance *in, const char *tenant, char **pem_r);

struct ca_client;
/*
 * Start a ca process for dir (it opens the store and reads DIR/ca.key itself, so the
 * caller never holds a CA key); NULL with err.  Call before opening the store.
 */
struct ca_client *instance_spawn_ca(const char *dir, struct buf *err);
/*
 * 0 when DIR/ca.key (if it exists yet) is out of the reach of user, the worker's uid:
 * mode 600, a regular file, not owned by user; else -1 with a message in err.
 */
int instance_check_ca_key(const char *dir, const struct settings *s, struct buf *err);
/*
 * Read DIR/ca.key (made on first use), refused as instance_check_ca_key refuses it.  The
 * daemon's ca process calls it before it drops privileges.  0 or -1 with err.
 */
int instance_ca_key(const struct instance *in, unsigned char key[CRYPTO_SEAL_KEY_LEN],
    struct buf *err);
/*
 * Be the ca process of an opened instance, with the CA sealing key: answer requests on fd
 * (-1: none) and, with refresh (the daemon's), keep every tenant's CRL fresh, until fd
 * closes (with refresh: until *stop) or *stop is set.  0 on a clean end.
 */
int instance_ca_main(struct instance *in, const unsigned char key[CRYPTO_SEAL_KEY_LEN], int fd,
    int refresh, volatile sig_atomic_t *stop);

#endif
