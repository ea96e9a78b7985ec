/*
 * Files built into the binary from idp/templates/ (see embed.sh).
 */
#ifndef SEKISHO_EMBEDDED_H
#define SEKISHO_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *name;
	const char *data;	/* NUL-terminated */
	size_t len;
};

extern const struct embedded_file embedded_files[];

#endif
