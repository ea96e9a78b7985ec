/*
 * Framed messages between Sekisho's own processes over a socketpair: a 4-byte big-endian
 * length, then that many bytes (a record, see rec.h).  Blocking, whole messages only.
 */
#ifndef SEKISHO_IPC_H
#define SEKISHO_IPC_H

#include <stddef.h>

#include "buf.h"

#define IPC_MAX_MESSAGE (1u << 20)

/* 0, or -1 (peer gone, or n above IPC_MAX_MESSAGE). */
int ipc_send(int fd, const void *p, size_t n);
/*
 * 1 with the next message in out (replacing its contents), 0 when the peer closed
 * between messages, -1 on errors, a truncated message or one longer than max.
 */
int ipc_recv(int fd, struct buf *out, size_t max);

#endif
