/*
 * Shared by the fuzz targets: a failed property check aborts with a message, which both
 * libFuzzer and the corpus replay of make check report as a crash.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"

void
fuzz_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "%s:%d: fuzz property failed: %s\n", file, line, what);
	abort();
}

void
fuzz_verdict(const char *why)
{
	static int verbose = -1;

	if (verbose == -1)
		verbose = getenv("SEKISHO_FUZZ_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "fuzz verdict: %s\n", why ? why : "accepted");
}

const char *
fuzz_tmpdir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (access("/dev/shm", W_OK) == 0)
		return "/dev/shm";
	return tmp && *tmp ? tmp : "/tmp";
}

#ifndef SEKISHO_LIBFUZZER
/*
 * Without libFuzzer: run every file named on the command line, or found in a directory
 * named there, through the target once, and print one TAP line per argument.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL)
		return -1;
	do {
		if (n == cap)
			data = xreallocarray(data, cap = cap ? 2 * cap : 4096, 1);
		got = fread(data + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of dir, in name order (so a failure names the same input every time). */
static int
run_dir(const char *dir, size_t *count_r)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xasprintf("%s/%s", dir, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && run_file(names[i]) == -1)
			rc = -1;
		free(names[i]);
	}
	free(names);
	*count_r = n;
	return rc;
}

int
main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	int failed = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		size_t count = 1;
		int rc = stat(argv[i], &st) == -1 ? -1 : S_ISDIR(st.st_mode) ?
		    run_dir(argv[i], &count) : run_file(argv[i]);

		if (rc == -1 || count == 0) {
			printf("not ok %d - %s: %s: %s\n", i, name, argv[i],
			    rc == -1 ? strerror(errno) : "no inputs");
			failed = 1;
		} else {
			printf("ok %d - %s: %zu input%s from %s\n", i, name, count,
			    count == 1 ? "" : "s", argv[i]);
		}
	}
	printf("1..%d\n", argc - 1);
	return failed;
}
#endif
