/*
 * fuzz_config: libFuzzer target for the devsep.conf parser
 * (config_parse_buf in common/config.c).  Proves, for any file content:
 *  - no crash, no out-of-bounds access, no UB (ASan/UBSan);
 *  - a refused file leaves the config untouched and the error names the
 *    file and a line number ("fuzz:N: ...");
 *  - an accepted file gives a config whose config_dump parses back and
 *    dumps to the identical text (dump/parse round trip), with every
 *    timeout within the 24 h cap and strings NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int memfd = -1;

/* Dumps c into buf (NUL-terminated), returns the length. */
static size_t
dump(const struct devsep_config *c, char *buf, size_t sz)
{
	ssize_t n;

	CHECK(ftruncate(memfd, 0) == 0 && lseek(memfd, 0, SEEK_SET) == 0);
	config_dump(c, memfd);
	n = pread(memfd, buf, sz - 1, 0);
	CHECK(n >= 0 && (size_t)n < sz - 1);
	buf[n] = '\0';
	return (size_t)n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char t1[64 * 1024], t2[64 * 1024];
	struct devsep_config c, before, d;
	char err[512], *colon;
	size_t n1, i;

	if (memfd == -1) {
		memfd = memfd_create("fuzz_config", MFD_CLOEXEC);
		CHECK(memfd != -1);
	}
	config_defaults(&c);
	before = c;
	if (config_parse_buf(&c, (const char *)data, size, "fuzz", err,
	    sizeof(err)) == -1) {
		CHECK(memcmp(&c, &before, sizeof(c)) == 0);
		CHECK(strncmp(err, "fuzz:", 5) == 0);
		strtoul(err + 5, &colon, 10);
		CHECK(colon > err + 5 && *colon == ':');
		return 0;
	}
	CHECK(c.init_timeout_ms <= 86400000 && c.lock_timeout_ms <= 86400000);
	CHECK(c.n_image_dirs <= CONFIG_MAX_DIRS);
	for (i = 0; i < c.n_image_dirs; i++)
		CHECK(memchr(c.image_dirs[i], '\0', CONFIG_PATH_MAX) != NULL &&
		    c.image_dirs[i][0] == '/');
	CHECK(memchr(c.script_dir, '\0', CONFIG_PATH_MAX) != NULL);
	n1 = dump(&c, t1, sizeof(t1));
	config_defaults(&d);
	d.max_jobs = 999;
	if (config_parse_buf(&d, t1, n1, "dump", err, sizeof(err)) == -1)
		__builtin_trap();	/* our own dump must parse */
	dump(&d, t2, sizeof(t2));
	CHECK(strcmp(t1, t2) == 0);
	return 0;
}
