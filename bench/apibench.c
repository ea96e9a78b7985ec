/*
 * apibench: the admin API's keys for bench/run, built against a build directory's
 * libraries as certbench is.  Never a test: it prints figures, one "key=value" line.
 *
 *   apibench keys DIR TENANT N SCOPES OUTFILE
 *	make N keys (apikey_create, as `sekisho apikey create` does) and write their strings
 *	to OUTFILE, one per line
 *   apibench limiter DIR TENANT N
 *	make N keys, then count one call of each (store_apikey_hit: the check and the write
 *	of the counters, as every API call makes), each timed: p50, p99, mean
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "apikey.h"
#include "buf.h"
#include "instance.h"
#include "store.h"

static double
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* N new keys of tenant with scopes, called prefix000000 ...: their strings (NULL on failure). */
static char **
make_keys(struct instance *in, const char *tenant, const char *prefix, long n, uint64_t scopes)
{
	struct admin a = { .in = in, .tenant = tenant, .actor = "apibench" };
	char **keys = calloc((size_t)n, sizeof(*keys)), name[32];

	for (long i = 0; i < n; i++) {
		struct apikey_in k = { .name = name, .scopes = scopes, .max_scopes = ~0ULL };
		snprintf(name, sizeof(name), "%s%06ld", prefix, i);
		if (apikey_create(&a, &k, &keys[i], NULL) == -1) {
			fprintf(stderr, "apibench: %s\n", a.msg);
			return NULL;
		}
	}
	return keys;
}

static int
write_keys(char **keys, long n, const char *out)
{
	FILE *fp = fopen(out, "w");

	if (fp == NULL)
		return -1;
	for (long i = 0; i < n; i++)
		fprintf(fp, "%s\n", keys[i]);
	return fclose(fp);
}

static int
limiter(struct instance *in, const char *tenant, char **keys, long n)
{
	double *t = calloc((size_t)n, sizeof(double)), sum = 0;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	for (long i = 0; i < n; i++) {
		char id[APIKEY_ID_LEN + 1];
		unsigned char hash[32];
		struct apikey_hit h = { 0 };
		double t0 = mono_us();
		if (apikey_parse(keys[i], id, hash) == -1 ||
		    store_apikey_hit(in->store, tenant, id, hash,
		    (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, &h) == -1 ||
		    h.verdict != APIKEY_OK)
			return -1;
		t[i] = mono_us() - t0;
		sum += t[i];
		store_apikey_hit_clear(&h);
	}
	qsort(t, (size_t)n, sizeof(double), cmp);
	printf("calls=%ld p50_us=%.2f p99_us=%.2f mean_us=%.2f rate=%.0f\n", n, t[n / 2],
	    t[n * 99 / 100], sum / (double)n, (double)n / (sum / 1e6));
	free(t);
	return 0;
}

int
main(int argc, char **argv)
{
	struct instance in;
	struct buf err;
	uint64_t scopes = APIKEY_SCOPE_READ;
	const char *e;
	char **keys;
	long n;

	if (argc < 5 || (strcmp(argv[1], "keys") || argc != 7) &&
	    (strcmp(argv[1], "limiter") || argc != 5)) {
		fprintf(stderr, "usage: apibench keys DIR TENANT N SCOPES OUTFILE | "
		    "limiter DIR TENANT N\n");
		return 2;
	}
	n = strtol(argv[4], NULL, 10);
	if (argc == 7 && apikey_scopes_parse(argv[5], &scopes, &e) == -1)
		return 2;
	buf_init(&err, 0);
	if (n < 1 || instance_open(&in, argv[2], &err) == -1) {
		fprintf(stderr, "apibench: %s\n", err.data ? err.data : "bad N");
		return 1;
	}
	if ((keys = make_keys(&in, argv[3], argc == 7 ? "bench" : "limiter", n, scopes)) == NULL)
		return 1;
	if (argc == 7)
		return write_keys(keys, n, argv[6]) == 0 ? 0 : 1;
	return limiter(&in, argv[3], keys, n) == 0 ? 0 : 1;
}
