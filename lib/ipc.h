/*
 * Framed messages between Sekisho's own processes over a socketpair: a 4-byte big-endian
 * length, then that many bytes (a record, see rec.h).  Blocking, whole messages only.
 * A supervisor passes a process a descriptor with ipc_send_fd.
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

/* Pass the descriptor fd over the socket sock (SCM_RIGHTS, with one byte); 0 or -1. */
int ipc_send_fd(int sock, int fd);
/*
 * A descriptor passed on sock without waiting: the descriptor (close-on-exec), -2 when
 * none is waiting, -1 when sock is closed or failed.
 */
int ipc_recv_fd(int sock);

#endif
