/*
 * What every fuzz target shares: the libFuzzer entry points and a NUL-terminated copy of
 * an input.  A target is built twice: with clang and libFuzzer (make fuzz, tests/fuzz/run),
 * and in every normal build with replay.c, which runs the committed corpus in make check.
 */
#ifndef SEKISHO_FUZZ_H
#define SEKISHO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xmalloc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fuzz target's verdict on a broken property: crash, so libFuzzer keeps the input. */
#define FUZZ_ASSERT(cond) do { if (!(cond)) fuzz_fail(#cond, __FILE__, __LINE__); } while (0)
void fuzz_fail(const char *what, const char *file, int line) __attribute__((noreturn));
/* With SEKISHO_FUZZ_VERBOSE=1 in the environment, say what became of an input (for
 * checking that seeds reach the paths they were made for). */
void fuzz_verdict(const char *why);
/* Where a target keeps its files: /dev/shm when there is one (no disk syncs), or TMPDIR. */
const char *fuzz_tmpdir(void);

/* data[0..size) as a new NUL-terminated string (it may hold NULs before the end). */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
