/*
 * Framed messages over a stream socket.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 1 read everything, 0 EOF before the first byte, -1 error or EOF inside. */
static int
read_all(int fd, unsigned char *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0)
			return got == 0 ? 0 : -1;
		if (r < 0)
			return -1;
		got += (size_t)r;
	}
	return 1;
}

int
ipc_send(int fd, const void *p, size_t n)
{
	unsigned char hdr[4];

	if (n > IPC_MAX_MESSAGE)
		return -1;
	hdr[0] = (unsigned char)(n >> 24);
	hdr[1] = (unsigned char)(n >> 16);
	hdr[2] = (unsigned char)(n >> 8);
	hdr[3] = (unsigned char)n;
	if (write_all(fd, hdr, 4) == -1 || write_all(fd, p, n) == -1)
		return -1;
	return 0;
}

int
ipc_recv(int fd, struct buf *out, size_t max)
{
	unsigned char hdr[4];
	uint32_t n;
	int rc;

	buf_reset(out);
	if ((rc = read_all(fd, hdr, 4)) != 1)
		return rc;
	n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (n > max || n > IPC_MAX_MESSAGE)
		return -1;
	for (uint32_t left = n; left > 0;) {
		unsigned char chunk[4096];
		size_t k = left < sizeof(chunk) ? left : sizeof(chunk);
		if (read_all(fd, chunk, k) != 1 || buf_append(out, chunk, k) == -1)
			return -1;
		left -= (uint32_t)k;
	}
	return 1;
}

/* One byte with room for one descriptor beside it (SCM_RIGHTS). */
struct fd_msg {
	char byte;
	/* aligned for a cmsghdr; not a union with one, whose flexible array would
	 * make this struct variable-sized to clang */
	_Alignas(struct cmsghdr) char space[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr m;
};

static void
fd_msg_init(struct fd_msg *f)
{
	memset(f, 0, sizeof(*f));
	f->byte = 'F';
	f->iov.iov_base = &f->byte;
	f->iov.iov_len = 1;
	f->m.msg_iov = &f->iov;
	f->m.msg_iovlen = 1;
	f->m.msg_control = f->space;
	f->m.msg_controllen = sizeof(f->space);
}

int
ipc_send_fd(int sock, int fd)
{
	struct fd_msg f;
	struct cmsghdr *h;
	ssize_t w;

	fd_msg_init(&f);
	h = CMSG_FIRSTHDR(&f.m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	while ((w = sendmsg(sock, &f.m, MSG_NOSIGNAL)) == -1 && errno == EINTR)
		;
	return w == 1 ? 0 : -1;
}

int
ipc_recv_fd(int sock)
{
	struct fd_msg f;
	struct cmsghdr *h;
	ssize_t r;
	int fd = -1;

	fd_msg_init(&f);
	while ((r = recvmsg(sock, &f.m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) == -1 && errno == EINTR)
		;
	if (r == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -1;
	if (r == 0)
		return -1;
	h = CMSG_FIRSTHDR(&f.m);
	if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
	    h->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(h), sizeof(int));
	return fd == -1 ? -2 : fd;
}
