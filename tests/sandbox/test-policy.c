/*
 * Proves that the policy text is the filter:
 *  - every policy/<name>.policy, read at test time by an independent parser
 *    (policy_parse.c), equals the tables compiled into the daemons, and
 *    there is exactly one compiled policy per file;
 *  - the comparison can fail: a one-line change to the text is detected;
 *  - every policy builds a loadable libseccomp filter and exports it;
 *  - syscalls that no devsep process may have are absent from every
 *    policy, and exec/fork are absent from the processes that must never
 *    run programs;
 *  - every statement carries a reason (the parser refuses one without).
 */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy.h"
#include "policy_parse.h"

static int
allows(const struct policy *p, const char *sys)
{
	size_t i;

	for (i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].name, sys) == 0 &&
		    p->rules[i].action == POLICY_ALLOW)
			return 1;
	return 0;
}

static void
text_equals_tables(void **state)
{
	const struct policy *c;
	struct policy parsed;
	char path[256], err[256], *text;
	size_t i;

	for (i = 0; i < policy_count; i++) {
		c = policy_all[i];
		snprintf(path, sizeof(path), "policy/%s.policy", c->name);
		text = tpolicy_read_file(path);
		assert_non_null(text);
		if (tpolicy_parse(text, &parsed, err, sizeof(err)) == -1)
			fail_msg("%s: %s", path, err);
		if (tpolicy_compare(&parsed, c, err, sizeof(err)) == -1)
			fail_msg("%s: %s", path, err);
		tpolicy_free(&parsed);
		free(text);
	}
}

static void
one_compiled_policy_per_file(void **state)
{
	glob_t g;
	char name[64];
	size_t i;

	assert_int_equal(glob("policy/*.policy", 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, policy_count);
	for (i = 0; i < g.gl_pathc; i++) {
		assert_int_equal(sscanf(g.gl_pathv[i], "policy/%63[a-z].policy",
		    name), 1);
		if (policy_find(name) == NULL)
			fail_msg("%s is not compiled in", g.gl_pathv[i]);
	}
	globfree(&g);
}

/* Mutates one rule of a parsed policy / the text: both must be caught. */
static void
comparison_detects_changes(void **state)
{
	const struct policy *c = policy_find("lockd");
	struct policy parsed;
	char err[256], *text, *t2;

	assert_non_null(c);
	text = tpolicy_read_file("policy/lockd.policy");
	assert_non_null(text);
	assert_int_equal(tpolicy_parse(text, &parsed, err, sizeof(err)), 0);
	assert_int_equal(tpolicy_compare(&parsed, c, err, sizeof(err)), 0);
	((struct policy_rule *)parsed.rules)[3].nr = 101;	/* ptrace */
	assert_int_equal(tpolicy_compare(&parsed, c, err, sizeof(err)), -1);
	tpolicy_free(&parsed);
	t2 = malloc(strlen(text) + 64);
	sprintf(t2, "%sallow\tptrace\t# sneaked in\n", text);
	assert_int_equal(tpolicy_parse(t2, &parsed, err, sizeof(err)), 0);
	assert_int_equal(tpolicy_compare(&parsed, c, err, sizeof(err)), -1);
	tpolicy_free(&parsed);
	free(t2);
	free(text);
}

static void
parser_requires_reasons(void **state)
{
	struct policy p;
	char err[256];

	assert_int_equal(tpolicy_parse("daemon x\nuser root # r\n"
	    "group @a # r\nallow read\n", &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 4"));
	tpolicy_free(&p);
	assert_int_equal(tpolicy_parse("daemon x\nuser root # r\n"
	    "group @a # r\nallow no_such_call # r\n", &p, err, sizeof(err)),
	    -1);
	tpolicy_free(&p);
}

static void
filters_build_and_export(void **state)
{
	FILE *f;
	size_t i;

	for (i = 0; i < policy_count; i++) {
		f = tmpfile();
		assert_non_null(f);
		assert_int_equal(policy_export_pfc(policy_all[i]->name, 0,
		    fileno(f)), 0);
		assert_true(ftell(f) > 0 || lseek(fileno(f), 0, SEEK_END) > 0);
		fclose(f);
		f = tmpfile();
		assert_int_equal(policy_print(policy_all[i]->name, fileno(f)),
		    0);
		assert_int_equal(lseek(fileno(f), 0, SEEK_END),
		    (off_t)strlen(policy_all[i]->text));
		fclose(f);
	}
	assert_int_equal(policy_export_pfc("nosuch", 0, 1), -1);
}

static void
forbidden_everywhere(void **state)
{
	static const char *const never[] = {
		"ptrace", "kexec_load", "kexec_file_load", "init_module",
		"finit_module", "delete_module", "bpf", "perf_event_open",
		"reboot", "swapon", "swapoff", "mount", "umount2", "pivot_root",
		"unshare", "setns", "keyctl", "add_key", "request_key",
		"io_uring_setup", "userfaultfd", "process_vm_readv",
		"process_vm_writev", "iopl", "ioperm", "acct", "settimeofday",
		"clock_settime", "adjtimex", "syslog",
	};
	size_t i, k;

	for (i = 0; i < policy_count; i++)
		for (k = 0; k < sizeof(never) / sizeof(never[0]); k++)
			if (allows(policy_all[i], never[k]))
				fail_msg("%s allows %s", policy_all[i]->name,
				    never[k]);
}

static void
no_exec_where_forbidden(void **state)
{
	static const char *const noexec[] = { "watcherd", "lockd", "broker" };
	static const char *const calls[] = { "execve", "execveat", "fork",
		"vfork" };
	const struct policy *p;
	size_t i, k;

	for (i = 0; i < 3; i++) {
		p = policy_find(noexec[i]);
		assert_non_null(p);
		for (k = 0; k < 4; k++)
			if (allows(p, calls[k]))
				fail_msg("%s allows %s", p->name, calls[k]);
		for (k = 0; k < p->nrules; k++)
			if (strcmp(p->rules[k].name, "clone") == 0 &&
			    p->rules[k].ncond == 0)
				fail_msg("%s allows clone unconditionally",
				    p->name);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_equals_tables),
		cmocka_unit_test(one_compiled_policy_per_file),
		cmocka_unit_test(comparison_detects_changes),
		cmocka_unit_test(parser_requires_reasons),
		cmocka_unit_test(filters_build_and_export),
		cmocka_unit_test(forbidden_everywhere),
		cmocka_unit_test(no_exec_where_forbidden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
