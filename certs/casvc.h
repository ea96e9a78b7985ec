/*
 * The ca process: the only holder of the tenants' CA private keys.  It creates CAs,
 * issues device certificates (checking the cap as the record commits), revokes them and
 * signs CRLs, answering framed requests on a socket (lib/ipc.h).  sekishod runs one that
 * keeps the CRLs fresh; the sekisho command starts its own for the duration of a command.
 */
#ifndef SEKISHO_CASVC_H
#define SEKISHO_CASVC_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct store;

enum ca_op {
	CA_OP_CREATE = 1,	/* tenant, keytype: a new CA for a tenant without one */
	CA_OP_ISSUE,		/* tenant, user, label, and csr or password (+ legacy) */
	CA_OP_REVOKE,		/* tenant, serial, reason */
	CA_OP_CRL,		/* tenant, force: the current CRL, rebuilt when stale */
};

struct ca_request {
	uint64_t op;
	char *tenant;
	char *user;
	char *label;
	char *keytype;		/* create: "p256" or "rsa3072" */
	char *csr;		/* issue: a PEM request; NULL makes the key here (PKCS#12) */
	char *password;		/* issue without csr: the PKCS#12 password */
	uint64_t legacy;	/* PKCS#12 with 3DES and a SHA-1 MAC */
	char *serial;
	uint64_t reason;
	uint64_t force;
	char *actor;		/* who asked (the operating-system user), for the audit record */
	char *sudo_user;	/* and who ran sudo, if so */
	char *ip;		/* the address of the admin's request (console, API), if any */
};

struct ca_reply {
	uint64_t ok;
	char *error;		/* when !ok: a message for the operator */
	uint64_t limit;		/* the cap refused the issuance */
	char *serial;
	char *fingerprint;
	uint64_t not_before;
	uint64_t not_after;
	char *cert_pem;		/* issue: the certificate; create: the CA certificate */
	unsigned char *p12;
	size_t p12_len;
	unsigned char *crl;
	size_t crl_len;
	uint64_t crl_number;
	uint64_t status;	/* revoke: 1 revoked, 2 already revoked */
	char *user;		/* revoke: the owner */
};

void ca_request_clear(struct ca_request *rq);
void ca_reply_clear(struct ca_reply *rp);

struct casvc_conf {
	struct store *st;
	const unsigned char *key;	/* 32 bytes: seals the CA keys in the store */
	int64_t crl_validity;		/* seconds from thisUpdate to nextUpdate */
	int64_t refresh_every;		/* 0: no periodic CRL refresh */
};

/*
 * Serve requests on fd (-1: none) and, with refresh_every, rebuild stale CRLs of every
 * tenant that often, until fd closes (with refresh_every: until *stop) or *stop is set.
 * 0 on a clean end.
 */
int casvc_serve(int fd, const struct casvc_conf *conf, volatile sig_atomic_t *stop);

/*
 * The caller's end: a connected socket (-1: none yet) and the ca process behind it (0:
 * not the caller's child, as for the daemon's worker: close does not wait for it).
 */
struct ca_client;
struct ca_client *ca_client_new(int fd, pid_t pid);
/* Use fd from now on (a restarted ca process), closing the old socket; no call may run. */
void ca_client_set_fd(struct ca_client *c, int fd);
/* 0 with the reply (rp->ok says whether it worked), or -1 when the ca process is gone. */
int ca_client_call(struct ca_client *c, const struct ca_request *rq, struct ca_reply *rp);
/* Close the socket and wait for the process; its exit status, or -1. */
int ca_client_close(struct ca_client *c);

/* Checks on what an operator or user gives: 0, or -1 with *errstr. */
int ca_check_label(const char *label, const char **errstr);
int ca_check_password(const char *password, const char **errstr);

#endif
