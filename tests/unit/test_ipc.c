/*
 * Unit tests for lib/ipc.c over a socketpair: framing of whole messages (empty ones too),
 * a clean close between messages, and what must fail: a message above the receiver's
 * maximum or IPC_MAX_MESSAGE (1 MiB), a frame cut short by the peer, a peer that is gone;
 * and a descriptor passed (how sekishod hands its worker a restarted ca process's channel).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "ipc.h"
#include "xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct pair {
	int fd[2];	/* fd[0] sends, fd[1] receives */
};

static int
setup(void **state)
{
	struct pair *p = xcalloc(1, sizeof(*p));

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
	*state = p;
	return 0;
}

static int
teardown(void **state)
{
	struct pair *p = *state;

	if (p->fd[0] != -1)
		close(p->fd[0]);
	if (p->fd[1] != -1)
		close(p->fd[1]);
	free(p);
	return 0;
}

static void
close_sender(struct pair *p)
{
	close(p->fd[0]);
	p->fd[0] = -1;
}

/* Bytes written as they are, to forge frames. */
static void
raw_write(int fd, const void *v, size_t n)
{
	assert_int_equal(write(fd, v, n), (ssize_t)n);
}

static void
raw_header(int fd, uint32_t n)
{
	unsigned char h[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16),
		(unsigned char)(n >> 8), (unsigned char)n };

	raw_write(fd, h, 4);
}

static void
test_ipc_roundtrip(void **state)
{
	static const struct {
		const char *data;
		size_t len;
	} msgs[] = {
		{ "hello", 5 },
		{ "", 0 },
		{ "with\0nul\0bytes", 14 },
		{ "x", 1 },
	};
	struct pair *p = *state;
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < NELEM(msgs); i++)
		assert_int_equal(ipc_send(p->fd[0], msgs[i].data, msgs[i].len), 0);
	/* Each receive gives exactly one message, in order, replacing what b held. */
	for (size_t i = 0; i < NELEM(msgs); i++) {
		assert_int_equal(ipc_recv(p->fd[1], &b, 1024), 1);
		assert_int_equal(b.len, msgs[i].len);
		if (msgs[i].len)
			assert_memory_equal(b.data, msgs[i].data, msgs[i].len);
	}
	/* The peer closed between messages: 0, and b is left empty. */
	close_sender(p);
	assert_int_equal(ipc_recv(p->fd[1], &b, 1024), 0);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_ipc_frame_format(void **state)
{
	struct pair *p = *state;
	unsigned char got[7];
	static const unsigned char want[7] = { 0, 0, 0, 3, 'a', 'b', 'c' };

	/* 4-byte big-endian length, then the bytes. */
	assert_int_equal(ipc_send(p->fd[0], "abc", 3), 0);
	assert_int_equal(read(p->fd[1], got, sizeof(got)), (ssize_t)sizeof(got));
	assert_memory_equal(got, want, sizeof(want));
}

static void
test_ipc_zero_length(void **state)
{
	struct pair *p = *state;
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "stale"), 0);
	assert_int_equal(ipc_send(p->fd[0], NULL, 0), 0);
	/* An empty message is a message (1), not a close (0). */
	assert_int_equal(ipc_recv(p->fd[1], &b, 0), 1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_ipc_above_receiver_max(void **state)
{
	struct pair *p = *state;
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(ipc_send(p->fd[0], "0123456789", 10), 0);
	assert_int_equal(ipc_recv(p->fd[1], &b, 9), -1);
	buf_free(&b);
}

static void
test_ipc_exactly_receiver_max(void **state)
{
	struct pair *p = *state;
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(ipc_send(p->fd[0], "0123456789", 10), 0);
	assert_int_equal(ipc_recv(p->fd[1], &b, 10), 1);
	assert_int_equal(b.len, 10);
	buf_free(&b);
}

static void
test_ipc_above_buffer_max(void **state)
{
	struct pair *p = *state;
	struct buf b;

	/* The buffer's own cap holds too. */
	buf_init(&b, 4);
	assert_int_equal(ipc_send(p->fd[0], "0123456789", 10), 0);
	assert_int_equal(ipc_recv(p->fd[1], &b, 1024), -1);
	buf_free(&b);
}

static void
test_ipc_send_too_large(void **state)
{
	struct pair *p = *state;
	struct buf b;

	/* Refused before anything is written: the receiver sees only the close. */
	assert_int_equal(ipc_send(p->fd[0], "", (size_t)IPC_MAX_MESSAGE + 1), -1);
	close_sender(p);
	buf_init(&b, 0);
	assert_int_equal(ipc_recv(p->fd[1], &b, SIZE_MAX), 0);
	buf_free(&b);
}

static void
test_ipc_recv_header_too_large(void **state)
{
	struct pair *p = *state;
	struct buf b;

	/* A forged length above 1 MiB is refused even when the caller allows more. */
	raw_header(p->fd[0], IPC_MAX_MESSAGE + 1);
	buf_init(&b, 0);
	assert_int_equal(ipc_recv(p->fd[1], &b, SIZE_MAX), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

struct big {
	int fd;
	unsigned char *data;
	size_t len;
	int rc;
};

static void *
send_thread(void *arg)
{
	struct big *g = arg;

	g->rc = ipc_send(g->fd, g->data, g->len);
	return NULL;
}

static void
test_ipc_max_message(void **state)
{
	struct pair *p = *state;
	struct big g = { .fd = p->fd[0], .len = IPC_MAX_MESSAGE, .rc = -2 };
	pthread_t th;
	struct buf b;

	assert_int_equal(IPC_MAX_MESSAGE, 1024 * 1024);
	g.data = xmalloc(g.len);
	for (size_t i = 0; i < g.len; i++)
		g.data[i] = (unsigned char)(i * 7 + i / 4096);
	/* 1 MiB exceeds the socket buffer: the sender blocks until we read. */
	assert_int_equal(pthread_create(&th, NULL, send_thread, &g), 0);
	buf_init(&b, 0);
	assert_int_equal(ipc_recv(p->fd[1], &b, SIZE_MAX), 1);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(g.rc, 0);
	assert_int_equal(b.len, g.len);
	assert_memory_equal(b.data, g.data, g.len);
	buf_free(&b);
	free(g.data);
}

static void
test_ipc_truncated_body(void **state)
{
	struct pair *p = *state;
	struct buf b;

	raw_header(p->fd[0], 10);
	raw_write(p->fd[0], "01234", 5);
	close_sender(p);
	buf_init(&b, 0);
	assert_int_equal(ipc_recv(p->fd[1], &b, 1024), -1);
	buf_free(&b);
}

static void
test_ipc_truncated_body_at_chunk(void **state)
{
	struct pair *p = *state;
	unsigned char data[4096] = { 0 };
	struct buf b;

	/* The frame ends exactly where the receiver's next read starts. */
	raw_header(p->fd[0], 2 * sizeof(data));
	raw_write(p->fd[0], data, sizeof(data));
	close_sender(p);
	buf_init(&b, 0);
	assert_int_equal(ipc_recv(p->fd[1], &b, SIZE_MAX), -1);
	buf_free(&b);
}

static void
test_ipc_truncated_header(void **state)
{
	struct pair *p = *state;
	struct buf b;

	raw_write(p->fd[0], "\0\0", 2);
	close_sender(p);
	buf_init(&b, 0);
	assert_int_equal(ipc_recv(p->fd[1], &b, 1024), -1);
	buf_free(&b);
}

static void
test_ipc_header_only_then_close(void **state)
{
	struct pair *p = *state;
	struct buf b;

	raw_header(p->fd[0], 1);
	close_sender(p);
	buf_init(&b, 0);
	assert_int_equal(ipc_recv(p->fd[1], &b, 1024), -1);
	buf_free(&b);
}

static void
test_ipc_send_peer_gone(void **state)
{
	struct pair *p = *state;

	/* No SIGPIPE: the test would die instead of seeing -1. */
	close(p->fd[1]);
	p->fd[1] = -1;
	assert_int_equal(ipc_send(p->fd[0], "hello", 5), -1);
}

/* A pipe's write end passed over the socket works at the receiver, and is close-on-exec. */
static void
test_ipc_fd_passed(void **state)
{
	struct pair *p = *state;
	int pfd[2], fd;
	char got[8] = { 0 };

	assert_int_equal(ipc_recv_fd(p->fd[1]), -2);	/* nothing waiting: no blocking */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(ipc_send_fd(p->fd[0], pfd[1]), 0);
	close(pfd[1]);
	fd = ipc_recv_fd(p->fd[1]);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(fd, "ca", 2), 2);
	close(fd);
	assert_int_equal(read(pfd[0], got, sizeof(got)), 2);
	assert_string_equal(got, "ca");
	close(pfd[0]);
	assert_int_equal(ipc_recv_fd(p->fd[1]), -2);
}

/* A byte without a descriptor is nothing passed; a closed socket is -1; no fd is -1. */
static void
test_ipc_fd_none(void **state)
{
	struct pair *p = *state;

	assert_int_equal(write(p->fd[0], "x", 1), 1);
	assert_int_equal(ipc_recv_fd(p->fd[1]), -2);
	assert_int_equal(ipc_send_fd(p->fd[0], -1), -1);
	close_sender(p);
	assert_int_equal(ipc_recv_fd(p->fd[1]), -1);
}

int
main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		TEST(test_ipc_roundtrip),
		TEST(test_ipc_frame_format),
		TEST(test_ipc_zero_length),
		TEST(test_ipc_above_receiver_max),
		TEST(test_ipc_exactly_receiver_max),
		TEST(test_ipc_above_buffer_max),
		TEST(test_ipc_send_too_large),
		TEST(test_ipc_recv_header_too_large),
		TEST(test_ipc_max_message),
		TEST(test_ipc_truncated_body),
		TEST(test_ipc_truncated_body_at_chunk),
		TEST(test_ipc_truncated_header),
		TEST(test_ipc_header_only_then_close),
		TEST(test_ipc_send_peer_gone),
		TEST(test_ipc_fd_passed),
		TEST(test_ipc_fd_none),
	};
#undef TEST

	return cmocka_run_group_tests(tests, NULL, NULL);
}
