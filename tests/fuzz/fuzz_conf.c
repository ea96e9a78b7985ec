/*
 * Fuzz target: sekishod.conf (lib/conf.c's table-driven parser and idp/settings.c's
 * checks across keys).  The input is written as DIR/sekishod.conf and loaded.  Properties:
 * a loaded configuration has an https url; every error line names the file.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fuzz.h"
#include "settings.h"

static char dir[256];
static char *path;

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
	free(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(dir, sizeof(dir), "%s/sekisho-fuzz-conf.XXXXXX", fuzz_tmpdir());
	if (mkdtemp(dir) == NULL)
		fuzz_fail("mkdtemp", __FILE__, __LINE__);
	path = xasprintf("%s/sekishod.conf", dir);
	atexit(cleanup);
	return 0;
}

static void
write_conf(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd == -1 || (size && write(fd, data, size) != (ssize_t)size) || close(fd) == -1)
		fuzz_fail("writing the configuration file", __FILE__, __LINE__);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct settings s;
	struct buf err;
	char *text;

	write_conf(data, size);
	buf_init(&err, 0);
	if (settings_load(dir, &s, &err) == 0) {
		FUZZ_ASSERT(s.url && strncmp(s.url, "https://", 8) == 0);
		FUZZ_ASSERT(err.len == 0);
		fuzz_verdict(NULL);
	} else {
		FUZZ_ASSERT(err.len > 0);
		text = buf_steal(&err, NULL);
		fuzz_verdict(text);
		for (char *line = text; *line; line = strchr(line, '\n') + 1) {
			FUZZ_ASSERT(strncmp(line, path, strlen(path)) == 0 && line[strlen(path)] == ':');
			FUZZ_ASSERT(strchr(line, '\n') != NULL);
		}
		free(text);
	}
	settings_free(&s);
	buf_free(&err);
	return 0;
}
