/*
 * test_config: proves the devsep.conf parser (common/config.c):
 *  - the timeouts named after libxl's constants default to libxl 4.17's
 *    values (table: symbol -> seconds);
 *  - every key is documented once, with its default, in
 *    system/devsep.conf.example and man/devsep.conf.5, and those
 *    defaults are config_defaults' (read from the source tree: cwd or
 *    DEVSEP_SRCDIR);
 *  - every key is parsed into its field (table: key line -> field value);
 *  - errors carry "name:line:" and say what is wrong: unknown key, duplicate
 *    key, bad value (table of bad lines), missing '=', a line over 1 KiB,
 *    binary (NUL) content; a failed parse leaves the config untouched;
 *  - comments, blank lines, CRLF and a last line without newline are fine;
 *  - config_load: missing file with and without missing_ok, a directory,
 *    a file too large;
 *  - config_reload_runtime copies exactly the runtime keys;
 *  - config_dump writes a file that parses back to the same config.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int
parse(struct devsep_config *c, const char *text, char *err, size_t errsz)
{
	return config_parse_buf(c, text, strlen(text), "t.conf", err, errsz);
}

/*
 * libxl 4.17's compile-time timeouts, in seconds
 * (xen tools/libs/light/libxl_internal.h, RELEASE-4.17.x):
 * the keys named after them default to these values.
 */
static const struct {
	const char	*symbol;
	size_t		 off;
	uint32_t	 seconds;
} libxl_timeouts[] = {
	{ "LIBXL_INIT_TIMEOUT", offsetof(struct devsep_config,
	    init_timeout_ms), 10 },
	{ "LIBXL_DESTROY_TIMEOUT", offsetof(struct devsep_config,
	    destroy_timeout_ms), 10 },
	{ "LIBXL_HOTPLUG_TIMEOUT", offsetof(struct devsep_config,
	    hotplug_timeout_ms), 40 },
	{ "LIBXL_QEMU_BODGE_TIMEOUT", offsetof(struct devsep_config,
	    qemu_bodge_timeout_ms), 2 },
	{ "LIBXL_QMP_CMD_TIMEOUT", offsetof(struct devsep_config,
	    qmp_cmd_timeout_ms), 10 },
};

static void
test_defaults(void **state)
{
	struct devsep_config c;
	size_t i;
	uint32_t v;

	config_defaults(&c);
	for (i = 0; i < N(libxl_timeouts); i++) {
		memcpy(&v, (const char *)&c + libxl_timeouts[i].off, sizeof(v));
		if (v != libxl_timeouts[i].seconds * 1000)
			fail_msg("%s: default %u ms, libxl 4.17 has %u s",
			    libxl_timeouts[i].symbol, v,
			    libxl_timeouts[i].seconds);
	}
	assert_string_equal(c.script_dir, "/etc/xen/scripts");
	assert_string_equal(c.run_dir, DEVSEP_RUNDIR);
	assert_string_equal(c.state_dir, DEVSEP_STATEDIR);
	assert_int_equal(c.n_image_dirs, 1);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	assert_int_equal(c.seccomp_log, 0);
	assert_int_equal(c.backend_mode, BACKEND_MODE_AUTO);
	assert_true(c.max_jobs > 0);
}

#define U32F(f) offsetof(struct devsep_config, f), 0
#define STRF(f) offsetof(struct devsep_config, f), 1
#define INTF(f) offsetof(struct devsep_config, f), 2

static const struct {
	const char	*line;
	size_t		 off;
	int		 kind;		/* 0 u32, 1 string, 2 int */
	uint32_t	 u;
	const char	*s;
} goodrows[] = {
	{ "init_timeout = 5s", U32F(init_timeout_ms), 5000, NULL },
	{ "destroy_timeout = 250ms", U32F(destroy_timeout_ms), 250, NULL },
	{ "hotplug_timeout = 30", U32F(hotplug_timeout_ms), 30000, NULL },
	{ "qemu_bodge_timeout = 0", U32F(qemu_bodge_timeout_ms), 0, NULL },
	{ "qmp_cmd_timeout = 600s", U32F(qmp_cmd_timeout_ms), 600000, NULL },
	{ "io_drain_timeout = 3600s", U32F(io_drain_timeout_ms), 3600000, NULL },
	{ "script_kill_grace = 100ms", U32F(script_kill_grace_ms), 100, NULL },
	{ "lock_timeout = 0", U32F(lock_timeout_ms), 0, NULL },
	{ "peer_retry = 10ms", U32F(peer_retry_ms), 10, NULL },
	{ "script_dir = /usr/lib/xen/scripts", STRF(script_dir), 0,
	    "/usr/lib/xen/scripts" },
	{ "max_jobs = 1024", U32F(max_jobs), 1024, NULL },
	{ "script_output_max = 0", U32F(script_output_max), 0, NULL },
	{ "qemu_uid_base = 1000", U32F(qemu_uid_base), 1000, NULL },
	{ "qemu_binary = /opt/q/qemu", STRF(qemu_binary), 0, "/opt/q/qemu" },
	{ "qemu_chroot = /var/empty/q", STRF(qemu_chroot), 0, "/var/empty/q" },
	{ "run_dir = /tmp/r", STRF(run_dir), 0, "/tmp/r" },
	{ "state_dir = /tmp/s dir", STRF(state_dir), 0, "/tmp/s dir" },
	{ "log_level = debug", INTF(log_level), LOG_LEVEL_DEBUG, NULL },
	{ "log_level = warn", INTF(log_level), LOG_LEVEL_WARN, NULL },
	{ "seccomp_log = yes", INTF(seccomp_log), 1, NULL },
	{ "backend_mode = libxl", INTF(backend_mode), BACKEND_MODE_LIBXL, NULL },
	{ "backend_mode = devsep", INTF(backend_mode), BACKEND_MODE_DEVSEP,
	    NULL },
	{ "backend_mode = auto", INTF(backend_mode), BACKEND_MODE_AUTO, NULL },
	{ "  \tmax_jobs=3\t # three", U32F(max_jobs), 3, NULL },
	{ "max_jobs = 4\r", U32F(max_jobs), 4, NULL },
};

static void
test_every_key(void **state)
{
	struct devsep_config c;
	char err[256];
	size_t i;
	const char *p;

	for (i = 0; i < N(goodrows); i++) {
		config_defaults(&c);
		if (parse(&c, goodrows[i].line, err, sizeof(err)) != 0)
			fail_msg("row %zu '%s': %s", i, goodrows[i].line, err);
		p = (const char *)&c + goodrows[i].off;
		switch (goodrows[i].kind) {
		case 0:
			assert_int_equal(*(const uint32_t *)(const void *)p,
			    goodrows[i].u);
			break;
		case 1:
			assert_string_equal(p, goodrows[i].s);
			break;
		case 2:
			assert_int_equal(*(const int *)(const void *)p,
			    (int)goodrows[i].u);
			break;
		}
	}
	config_defaults(&c);
	assert_int_equal(parse(&c, "image_dirs = /a, /b\t/c", err,
	    sizeof(err)), 0);
	assert_int_equal(c.n_image_dirs, 3);
	assert_string_equal(c.image_dirs[0], "/a");
	assert_string_equal(c.image_dirs[1], "/b");
	assert_string_equal(c.image_dirs[2], "/c");
	assert_int_equal(parse(&c, "image_dirs =", err, sizeof(err)), 0);
	assert_int_equal(c.n_image_dirs, 0);
}

static const struct {
	const char	*text;
	const char	*want;	/* substring of the error */
} badrows[] = {
	{ "bogus = 1", "t.conf:1: unknown key 'bogus'" },
	{ "# c\n\nInit_timeout = 1s", "t.conf:3: unknown key" },
	{ "max_jobs = 1\nmax_jobs = 2", "t.conf:2: duplicate key 'max_jobs'" },
	{ "max_jobs", "t.conf:1: expected 'key = value'" },
	{ "= 5", "t.conf:1: unknown key ''" },
	{ "max_jobs = 0", "t.conf:1: bad value for 'max_jobs'" },
	{ "max_jobs = 1025", "bad value" },
	{ "max_jobs = -1", "bad value" },
	{ "max_jobs = 0x10", "bad value" },
	{ "max_jobs = ", "bad value" },
	{ "max_jobs = 1 2", "bad value" },
	{ "init_timeout = 50ms", "bad value" },		/* under min */
	{ "init_timeout = 3601s", "bad value" },	/* over max */
	{ "init_timeout = 1h", "bad value" },
	{ "init_timeout = 10 s", "bad value" },
	{ "qemu_uid_base = 999", "bad value" },
	{ "qemu_uid_base = 2147483648", "bad value" },
	{ "script_dir = relative/dir", "bad value" },
	{ "script_dir = /etc/../root", "bad value" },
	{ "script_dir = /etc/..", "bad value" },
	{ "script_dir =", "bad value" },
	{ "log_level = verbose", "bad value" },
	{ "log_level = DEBUG", "bad value" },
	{ "seccomp_log = maybe", "bad value" },
	{ "backend_mode = xl", "bad value" },
	{ "backend_mode = LIBXL", "bad value" },
	{ "backend_mode =", "bad value" },
	{ "image_dirs = /a /b /c /d /e /f /g /h /i", "bad value" },
	{ "image_dirs = /a rel", "bad value" },
	{ "image_dirs = /a\r\r/b", "bad value" },	/* found by fuzz_config */
	{ "script_dir = /a\x19" "b", "bad value" },
	{ "script_dir = /caf\xc3\xa9", "bad value" },
	{ "\n\n\nmax_jobs = 2\nmax_jobs = x", "t.conf:5:" },
	{ "max_jobs = 1\r\nbad\r\n", "t.conf:2: expected" },
};

static void
test_errors(void **state)
{
	struct devsep_config c, before;
	char err[256];
	size_t i;

	for (i = 0; i < N(badrows); i++) {
		config_defaults(&c);
		before = c;
		err[0] = '\0';
		if (parse(&c, badrows[i].text, err, sizeof(err)) != -1)
			fail_msg("row %zu accepted: '%s'", i, badrows[i].text);
		if (strstr(err, badrows[i].want) == NULL)
			fail_msg("row %zu: error '%s' lacks '%s'", i, err,
			    badrows[i].want);
		if (memcmp(&c, &before, sizeof(c)) != 0)
			fail_msg("row %zu: config changed by a failed parse", i);
	}
}

static void
test_line_limits(void **state)
{
	struct devsep_config c;
	char err[256], *buf;
	size_t n;

	/* a 1023-byte comment line is fine, 1024 bytes is refused */
	buf = malloc(4096);
	assert_non_null(buf);
	memset(buf, ' ', 4096);
	buf[0] = '#';
	config_defaults(&c);
	assert_int_equal(config_parse_buf(&c, buf, 1023, "t", err,
	    sizeof(err)), 0);
	assert_int_equal(config_parse_buf(&c, buf, 1024, "t", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "t:1: line too long"));
	n = strlen("max_jobs = 2\n");
	memcpy(buf, "max_jobs = 2\n", n);
	assert_int_equal(config_parse_buf(&c, buf, 4096, "t", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "t:2:"));
	free(buf);

	/* binary: a NUL byte */
	assert_int_equal(config_parse_buf(&c, "max_jobs = 2\0\n", 14, "t", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "binary"));
	assert_int_equal(config_parse_buf(&c, "\xff\xfe\x01", 3, "t", err,
	    sizeof(err)), -1);
	/* a tiny error buffer is not overrun */
	assert_int_equal(config_parse_buf(&c, "bogus = 1", 9, "t", err, 4), -1);
	assert_int_equal(strlen(err), 3);
}

static void
test_layout(void **state)
{
	struct devsep_config c;
	char err[256];
	static const char text[] =
	    "# devsep.conf\r\n"
	    "\r\n"
	    "   # indented comment\n"
	    "\t\n"
	    "max_jobs = 7   # trailing comment\r\n"
	    "log_level=debug\n"
	    "script_dir = /x/scripts";	/* no final newline */

	config_defaults(&c);
	assert_int_equal(parse(&c, text, err, sizeof(err)), 0);
	assert_int_equal(c.max_jobs, 7);
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(c.script_dir, "/x/scripts");
	assert_int_equal(parse(&c, "", err, sizeof(err)), 0);
	assert_int_equal(parse(&c, "\n\n# only\n", err, sizeof(err)), 0);
}

static void
test_load(void **state)
{
	struct devsep_config c;
	char dir[] = "/tmp/test_config.XXXXXX", path[128], err[256], *big;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	config_defaults(&c);
	assert_int_equal(config_load(&c, path, 1, err, sizeof(err)), 0);
	assert_int_equal(config_load(&c, path, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing.conf"));
	assert_non_null(strstr(err, "No such file"));
	/* a directory is not a config file */
	assert_int_equal(config_load(&c, dir, 1, err, sizeof(err)), -1);

	snprintf(path, sizeof(path), "%s/devsep.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "max_jobs = 9\nbogus = 1\n", 23), 23);
	close(fd);
	assert_int_equal(config_load(&c, path, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "devsep.conf:2: unknown key 'bogus'"));
	assert_int_equal(c.max_jobs, 16);

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "max_jobs = 9\n", 13), 13);
	close(fd);
	assert_int_equal(config_load(&c, path, 0, err, sizeof(err)), 0);
	assert_int_equal(c.max_jobs, 9);

	/* 64 KiB of comments: too large */
	big = malloc(64 * 1024);
	assert_non_null(big);
	memset(big, '\n', 64 * 1024);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, big, 64 * 1024), 64 * 1024);
	close(fd);
	assert_int_equal(config_load(&c, path, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too large"));
	free(big);
	unlink(path);
	rmdir(dir);
}

static void
test_reload_runtime(void **state)
{
	struct devsep_config dst, src;
	char err[256];

	config_defaults(&dst);
	config_defaults(&src);
	assert_int_equal(parse(&src,
	    "init_timeout = 1s\ndestroy_timeout = 2s\nhotplug_timeout = 3s\n"
	    "qemu_bodge_timeout = 4s\nqmp_cmd_timeout = 5s\n"
	    "io_drain_timeout = 6s\nscript_kill_grace = 7s\n"
	    "lock_timeout = 8s\npeer_retry = 9s\nmax_jobs = 10\n"
	    "script_output_max = 11\nimage_dirs = /i1 /i2\n"
	    "log_level = debug\n"
	    "script_dir = /new/scripts\nqemu_uid_base = 5000\n"
	    "qemu_binary = /new/qemu\nqemu_chroot = /new/chroot\n"
	    "run_dir = /new/run\nstate_dir = /new/state\nseccomp_log = yes\n"
	    "backend_mode = libxl\n", err, sizeof(err)), 0);
	config_reload_runtime(&dst, &src);
	/* runtime keys follow the new file */
	assert_int_equal(dst.init_timeout_ms, 1000);
	assert_int_equal(dst.destroy_timeout_ms, 2000);
	assert_int_equal(dst.hotplug_timeout_ms, 3000);
	assert_int_equal(dst.qemu_bodge_timeout_ms, 4000);
	assert_int_equal(dst.qmp_cmd_timeout_ms, 5000);
	assert_int_equal(dst.io_drain_timeout_ms, 6000);
	assert_int_equal(dst.script_kill_grace_ms, 7000);
	assert_int_equal(dst.lock_timeout_ms, 8000);
	assert_int_equal(dst.peer_retry_ms, 9000);
	assert_int_equal(dst.max_jobs, 10);
	assert_int_equal(dst.script_output_max, 11);
	assert_int_equal(dst.n_image_dirs, 2);
	assert_string_equal(dst.image_dirs[1], "/i2");
	assert_int_equal(dst.log_level, LOG_LEVEL_DEBUG);
	/* the others need a restart and keep their value */
	assert_string_equal(dst.script_dir, "/etc/xen/scripts");
	assert_int_equal(dst.qemu_uid_base, 16777216);
	assert_string_equal(dst.qemu_binary, "/usr/bin/qemu-system-x86_64");
	assert_string_equal(dst.qemu_chroot, "/var/empty");
	assert_string_equal(dst.run_dir, DEVSEP_RUNDIR);
	assert_string_equal(dst.state_dir, DEVSEP_STATEDIR);
	assert_int_equal(dst.seccomp_log, 0);
	assert_int_equal(dst.backend_mode, BACKEND_MODE_AUTO);
}

/* Dumps c into a malloc'ed NUL-terminated string. */
static char *
dump(const struct devsep_config *c, size_t *len)
{
	char path[] = "/tmp/test_config_dump.XXXXXX", *buf;
	struct stat st;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	config_dump(c, fd);
	assert_int_equal(fstat(fd, &st), 0);
	buf = calloc(1, st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, st.st_size, 0), st.st_size);
	close(fd);
	*len = st.st_size;
	return buf;
}

static void
roundtrip(const struct devsep_config *a)
{
	struct devsep_config b;
	char err[256], *t1, *t2;
	size_t l1, l2, i;

	t1 = dump(a, &l1);
	/* parse into something different from a, so every key must be set */
	config_defaults(&b);
	b.max_jobs = 999;
	b.log_level = LOG_LEVEL_WARN;
	if (config_parse_buf(&b, t1, l1, "dump", err, sizeof(err)) != 0)
		fail_msg("dump does not parse: %s\n%s", err, t1);
	t2 = dump(&b, &l2);
	assert_string_equal(t1, t2);
	assert_int_equal(a->max_jobs, b.max_jobs);
	assert_int_equal(a->init_timeout_ms, b.init_timeout_ms);
	assert_int_equal(a->qemu_bodge_timeout_ms, b.qemu_bodge_timeout_ms);
	assert_int_equal(a->log_level, b.log_level);
	assert_int_equal(a->seccomp_log, b.seccomp_log);
	assert_int_equal(a->backend_mode, b.backend_mode);
	assert_int_equal(a->n_image_dirs, b.n_image_dirs);
	for (i = 0; i < a->n_image_dirs; i++)
		assert_string_equal(a->image_dirs[i], b.image_dirs[i]);
	assert_string_equal(a->state_dir, b.state_dir);
	free(t1);
	free(t2);
}

static void
test_dump_roundtrip(void **state)
{
	struct devsep_config c;
	char err[256];

	config_defaults(&c);
	roundtrip(&c);
	config_defaults(&c);
	assert_int_equal(parse(&c, "init_timeout = 250ms\nmax_jobs = 3\n"
	    "image_dirs = /a /b /c /d /e /f /g /h\nlog_level = debug\n"
	    "seccomp_log = on\nqemu_bodge_timeout = 0\n"
	    "state_dir = /s p a c e\nbackend_mode = libxl\n", err,
	    sizeof(err)), 0);
	roundtrip(&c);
	config_defaults(&c);
	assert_int_equal(parse(&c, "image_dirs =\nlog_level = warn\n", err,
	    sizeof(err)), 0);
	roundtrip(&c);
	/* an out-of-range level (set by code, not by a file) stays in bounds */
	c.log_level = -1;
	free(dump(&c, &(size_t){ 0 }));
	c.log_level = 1000;
	free(dump(&c, &(size_t){ 0 }));
}

/*
 * Every key of devsep.conf, as config_dump writes them (it writes each
 * key once): each must be documented with its default.
 */
#define KEYS_MAX	64
static char	 all_keys[KEYS_MAX][32];
static size_t	 nkeys;

static void
load_keys(void)
{
	struct devsep_config c;
	const char *p, *nl;
	char *t;
	size_t len;

	config_defaults(&c);
	t = dump(&c, &len);
	nkeys = 0;
	for (p = t; *p; p = *nl ? nl + 1 : nl) {
		nl = strchrnul(p, '\n');
		if (sscanf(p, "%31[a-z_] =", all_keys[nkeys]) != 1)
			continue;
		if (++nkeys == KEYS_MAX)
			fail_msg("more than %d keys: raise KEYS_MAX", KEYS_MAX);
	}
	free(t);
	assert_true(nkeys > 0);
}

#define DOC_MAX		(64 * 1024)	/* bytes read of a doc file */
#define DOC_LINE_MAX	512

/* Reads DEVSEP_SRCDIR (default: the cwd, as make runs tests)/rel. */
static char *
read_doc(const char *rel)
{
	const char *dir = getenv("DEVSEP_SRCDIR");
	char path[512], *buf;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", rel);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("%s: %s (run from the source tree or set "
		    "DEVSEP_SRCDIR)", path, strerror(errno));
	buf = calloc(1, DOC_MAX + 1);
	assert_non_null(buf);
	n = fread(buf, 1, DOC_MAX, f);
	assert_true(n > 0 && n < DOC_MAX);
	fclose(f);
	return buf;
}

/* Appends "key = value\n" to out, failing on a key given twice. */
static void
doc_add(char *out, size_t outsz, const char *key, const char *val,
    int *seen)
{
	size_t i, len = strlen(out);

	for (i = 0; i < nkeys; i++)
		if (strcmp(all_keys[i], key) == 0)
			break;
	if (i == nkeys)
		fail_msg("documented key '%s' is no key of config_dump", key);
	seen[i]++;
	snprintf(out + len, outsz - len, "%s = %s\n", key, val);
}

/* "#key = value" lines of the example become "key = value". */
static void
example_defaults(const char *doc, char *out, size_t outsz, int *seen)
{
	char line[DOC_LINE_MAX], key[64], val[DOC_LINE_MAX];
	const char *p = doc, *nl;
	size_t len;

	for (; *p; p = *nl ? nl + 1 : nl) {
		nl = strchrnul(p, '\n');
		len = (size_t)(nl - p) < sizeof(line) - 1 ?
		    (size_t)(nl - p) : sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		if (sscanf(line, "#%63[a-z_] = %511[^\n]", key, val) == 2)
			doc_add(out, outsz, key, val, seen);
	}
}

/*
 * devsep.conf(5): after ".It Cm key", either "..., default VALUE." or a
 * "Default" line followed by ".Pa VALUE ." / ".Cm VALUE ;".
 */
static void
man_defaults(const char *doc, char *out, size_t outsz, int *seen)
{
	char line[DOC_LINE_MAX], key[64] = "", val[DOC_LINE_MAX];
	const char *p = doc, *nl, *d;
	size_t len;
	int want_next = 0;

	for (; *p; p = *nl ? nl + 1 : nl) {
		nl = strchrnul(p, '\n');
		len = (size_t)(nl - p) < sizeof(line) - 1 ?
		    (size_t)(nl - p) : sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		if (sscanf(line, ".It Cm %63[a-z_]", key) == 1) {
			want_next = 0;
			continue;
		}
		if (key[0] == '\0')
			continue;
		if (want_next && sscanf(line, ".%*s %511[^ ]", val) == 1) {
			doc_add(out, outsz, key, val, seen);
			key[0] = '\0';
			want_next = 0;
		} else if (strcmp(line, "Default") == 0) {
			want_next = 1;
		} else if ((d = strstr(line, "default ")) != NULL &&
		    sscanf(d, "default %511[^.]", val) == 1) {
			doc_add(out, outsz, key, val, seen);
			key[0] = '\0';
		}
	}
}

/* The defaults in text, all keys given once, equal config_defaults. */
static void
check_doc(const char *name, const char *text, const int *seen)
{
	struct devsep_config def, c;
	char err[256];
	size_t i;

	for (i = 0; i < nkeys; i++)
		if (seen[i] != 1)
			fail_msg("%s: key '%s' documented %d times with a "
			    "default", name, all_keys[i], seen[i]);
	config_defaults(&def);
	config_defaults(&c);
	if (parse(&c, text, err, sizeof(err)) != 0)
		fail_msg("%s: %s\n%s", name, err, text);
	if (memcmp(&c, &def, sizeof(c)) != 0)
		fail_msg("%s: a documented default differs from "
		    "config_defaults:\n%s", name, text);
}

static void
test_documented_defaults(void **state)
{
	char *doc, text[4096];
	int seen[KEYS_MAX];

	load_keys();
	doc = read_doc("system/devsep.conf.example");
	text[0] = '\0';
	memset(seen, 0, sizeof(seen));
	example_defaults(doc, text, sizeof(text), seen);
	check_doc("devsep.conf.example", text, seen);
	free(doc);

	doc = read_doc("man/devsep.conf.5");
	text[0] = '\0';
	memset(seen, 0, sizeof(seen));
	man_defaults(doc, text, sizeof(text), seen);
	check_doc("devsep.conf.5", text, seen);
	free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_line_limits),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_reload_runtime),
		cmocka_unit_test(test_dump_roundtrip),
		cmocka_unit_test(test_documented_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
