/*
 * test_spawn proves hotplugd/spawn.c on its own: script resolution accepts
 * exactly the executable regular files inside the script dir (bare,
 * relative, absolute, symlink staying inside) and refuses "..", empty or
 * "." components, escapes (absolute or symlink), non-executable,
 * world-writable, directories, missing files; hp_job_check refuses bad
 * kind/action/backend path/vif names; argv and env are exactly libxl's
 * Linux convention.  Starting the script (the launcher, its uid, session
 * and cgroup) is proven against the real daemon by
 * tests/adversarial/test-scripts-hostile.sh and the it-real-* tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/* test paths are short temp dirs; PATH_MAX buffers make gcc warn */
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#include "hotplugd/hotplugd.h"

struct hotplugd *hp;
static struct hotplugd H;
static char dir[64], real[PATH_MAX], outside[PATH_MAX];
static int out_fd = -1;

int
output_start(struct job *j, int fd)
{
	out_fd = fd;
	return 0;
}

/* hp_spawn's cgroup calls: not reached here (no launcher in this test) */
int hpcg_job_create(uint64_t id) { errno = ENOTSUP; return -1; }
int hpcg_job_remove(uint64_t id) { return 0; }

static void
mkscript(const char *name, mode_t mode, const char *body)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(p, mode);
}

static int
setup(void **state)
{
	char p[PATH_MAX];

	snprintf(dir, sizeof(dir), "/tmp/hpspawn.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_non_null(realpath(dir, real));
	memset(&H, 0, sizeof(H));
	hp = &H;
	snprintf(H.script_dir_real, sizeof(H.script_dir_real), "%s", real);
	mkscript("ok.sh", 0755, "echo $(cut -d' ' -f6 /proc/$$/stat) $$ \"$1\"");
	mkscript("noexec.sh", 0644, "true");
	mkscript("ww.sh", 0777, "true");
	snprintf(p, sizeof(p), "%s/sub", dir);
	mkdir(p, 0755);
	mkscript("sub/inner.sh", 0755, "true");
	snprintf(outside, sizeof(outside), "%s.outside", dir);
	mkdir(outside, 0755);
	snprintf(p, sizeof(p), "%s/x.sh", outside);
	close(open(p, O_CREAT | O_WRONLY, 0755));
	chmod(p, 0755);
	snprintf(p, sizeof(p), "%s/esc.sh", dir);
	assert_int_equal(symlink("../" "hpspawn.outside.sh", p), 0);
	snprintf(p, sizeof(p), "%s/esc2.sh", dir);
	char t[PATH_MAX];
	snprintf(t, sizeof(t), "%s/x.sh", outside);
	assert_int_equal(symlink(t, p), 0);
	snprintf(p, sizeof(p), "%s/in.sh", dir);
	assert_int_equal(symlink("sub/inner.sh", p), 0);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX * 2 + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, outside);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_resolve(void **state)
{
	char out[PATH_MAX], abs_ok[PATH_MAX], abs_out[PATH_MAX];
	const char *why;
	static const char *refused[] = {
		"", "../x.sh", "sub/../ok.sh", "./ok.sh", "sub//inner.sh",
		"ok.sh/", "noexec.sh", "ww.sh", "sub", "missing.sh", "esc.sh",
		"esc2.sh", "ok\nsh",
	};
	size_t i;

	assert_int_equal(hp_script_resolve(real, "ok.sh", out, sizeof(out),
	    &why), 0);
	snprintf(abs_ok, sizeof(abs_ok), "%s/ok.sh", real);
	assert_string_equal(out, abs_ok);
	assert_int_equal(hp_script_resolve(real, abs_ok, out, sizeof(out),
	    &why), 0);
	assert_int_equal(hp_script_resolve(real, "sub/inner.sh", out,
	    sizeof(out), &why), 0);
	assert_int_equal(hp_script_resolve(real, "in.sh", out, sizeof(out),
	    &why), 0);	/* symlink staying inside: its target runs */
	assert_non_null(strstr(out, "/sub/inner.sh"));
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		why = NULL;
		if (hp_script_resolve(real, refused[i], out, sizeof(out),
		    &why) != -1 || why == NULL)
			fail_msg("'%s' was not refused", refused[i]);
	}
	snprintf(abs_out, sizeof(abs_out), "%s/x.sh", outside);
	assert_int_equal(hp_script_resolve(real, abs_out, out, sizeof(out),
	    &why), -1);
	assert_string_equal(why, "script resolves outside the script "
	    "directory");
}

static struct job *
mkjob(const char *kind, const char *action, const char *be, const char *vif)
{
	static struct job j;

	memset(&j, 0, sizeof(j));
	snprintf(j.kind, sizeof(j.kind), "%s", kind);
	snprintf(j.action, sizeof(j.action), "%s", action);
	snprintf(j.script, sizeof(j.script), "ok.sh");
	snprintf(j.be_path, sizeof(j.be_path), "%s", be);
	snprintf(j.vif, sizeof(j.vif), "%s", vif);
	return &j;
}

static void
test_job_check(void **state)
{
	const char *why;
	struct job *j;

	j = mkjob("vbd", "add", "/local/domain/0/backend/vbd/5/51712", "");
	assert_int_equal(hp_job_check(j, &why), 0);
	assert_int_equal(j->domid, 5);
	assert_int_equal(j->devid, 51712);
	j = mkjob("vif", "online", "/local/domain/3/backend/vif/5/0", "vif5.0");
	assert_int_equal(hp_job_check(j, &why), 0);
	assert_int_equal(j->bdomid, 3);
	assert_int_equal(hp_job_check(mkjob("vif", "add",
	    "/local/domain/0/backend/vif/5/0", "vif5.0"), &why), 0);
	assert_int_equal(hp_job_check(mkjob("vif", "attach",
	    "/local/domain/0/backend/vif/5/0", "vif5.0"), &why), -1);
	assert_int_equal(hp_job_check(mkjob("vbd", "online",
	    "/local/domain/0/backend/vbd/5/1", ""), &why), -1);
	assert_int_equal(hp_job_check(mkjob("vif", "online",
	    "/local/domain/0/backend/vif/5/0", ""), &why), -1);
	assert_int_equal(hp_job_check(mkjob("vif", "online",
	    "/local/domain/0/backend/vif/5/0", "vif5.0;rm"), &why), -1);
	assert_int_equal(hp_job_check(mkjob("vif", "online",
	    "/local/domain/0/backend/vif/5/0", "averyveryverylongname"), &why),
	    -1);
	assert_int_equal(hp_job_check(mkjob("vbd", "add",
	    "/local/domain/0/backend/vbd/5/1", "vif5.0"), &why), -1);
	assert_int_equal(hp_job_check(mkjob("vbd", "add",
	    "/local/domain/0/backend/vbd/5/1/extra", ""), &why), -1);
	assert_int_equal(hp_job_check(mkjob("vbd", "add",
	    "/local/domain/0/backend/vif/5/1", ""), &why), -1);
	assert_int_equal(hp_job_check(mkjob("VBD", "add",
	    "/local/domain/0/backend/VBD/5/1", ""), &why), -1);
	j = mkjob("vbd", "add", "/local/domain/0/backend/vbd/5/1", "");
	snprintf(j->xs_path, sizeof(j->xs_path), "relative.sock");
	assert_int_equal(hp_job_check(j, &why), -1);
}

static void
test_argv_env(void **state)
{
	const char *argv[5];
	char *envp[16], store[2048];
	struct job *j;
	const char *why;
	size_t n;

	j = mkjob("vif", "offline", "/local/domain/0/backend/vif/5/2", "vif5.2");
	snprintf(j->xs_path, sizeof(j->xs_path), "/run/x.sock");
	assert_int_equal(hp_job_check(j, &why), 0);
	assert_int_equal(hp_build_argv(j, argv, 5), 3);
	assert_string_equal(argv[1], "offline");
	assert_string_equal(argv[2], "type_if=vif");
	assert_null(argv[3]);
	j->id = 0x8000000500000002ull;
	n = hp_build_env(j, store, sizeof(store), envp, 16);
	assert_int_equal(n, 8);
	assert_string_equal(envp[0], "PATH=/usr/local/sbin:/usr/local/bin:"
	    "/usr/sbin:/usr/bin:/sbin:/bin");
	assert_string_equal(envp[1], "script=ok.sh");
	assert_string_equal(envp[2], "XENBUS_TYPE=vif");
	assert_string_equal(envp[3], "XENBUS_PATH=backend/vif/5/2");
	assert_string_equal(envp[4], "XENBUS_BASE_PATH=backend");
	assert_string_equal(envp[5], "vif=vif5.2");
	assert_string_equal(envp[6], "netdev=");
	assert_string_equal(envp[7], "XENSTORED_PATH=/run/x.sock");
	assert_null(envp[8]);

	/* the tap of an emulated NIC (libxl: "add type_if=tap", INTERFACE) */
	j = mkjob("vif", "remove", "/local/domain/0/backend/vif/7/1", "vif7.1");
	assert_int_equal(hp_job_check(j, &why), 0);
	assert_int_equal(hp_build_argv(j, argv, 5), 3);
	assert_string_equal(argv[1], "remove");
	assert_string_equal(argv[2], "type_if=tap");
	assert_int_equal(hp_build_env(j, store, sizeof(store), envp, 16), 8);
	assert_string_equal(envp[5], "vif=vif7.1");
	assert_string_equal(envp[7], "INTERFACE=vif7.1-emu");

	j = mkjob("vbd", "remove", "/local/domain/0/backend/vbd/5/1", "");
	assert_int_equal(hp_job_check(j, &why), 0);
	assert_int_equal(hp_build_argv(j, argv, 5), 2);
	assert_null(argv[2]);
	assert_int_equal(hp_build_env(j, store, sizeof(store), envp, 16), 5);
	assert_null(envp[5]);
	assert_int_equal(hp_build_env(j, store, 40, envp, 16), 0);
	assert_int_equal(hp_build_env(j, store, sizeof(store), envp, 4), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_job_check),
		cmocka_unit_test(test_argv_env),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
