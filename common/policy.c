/*
 * Policies compiled from policy/NAME.policy: lookup, printing, and the
 * libseccomp filter built from a policy's `allow` / `errno` lines.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "fdio.h"
#include "log.h"
#include "policy.h"

const struct policy *
policy_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < policy_count; i++)
		if (strcmp(policy_all[i]->name, name) == 0)
			return policy_all[i];
	return NULL;
}

int
policy_print(const char *name, int fd)
{
	const struct policy *p = policy_find(name);

	if (p == NULL) {
		errno = ENOENT;
		return -1;
	}
	return write_all(fd, p->text, strlen(p->text));
}

static int
rule_add_act(scmp_filter_ctx ctx, const struct policy_rule *r, uint32_t act)
{
	struct scmp_arg_cmp cmp[POLICY_MAX_CONDS];
	unsigned i;
	int rc;

	for (i = 0; i < r->ncond; i++) {
		cmp[i].arg = r->cond[i].arg;
		cmp[i].op = (enum scmp_compare)r->cond[i].op;
		if (cmp[i].op == SCMP_CMP_MASKED_EQ) {
			cmp[i].datum_a = r->cond[i].mask;
			cmp[i].datum_b = r->cond[i].val;
		} else {
			cmp[i].datum_a = r->cond[i].val;
			cmp[i].datum_b = 0;
		}
	}
	rc = seccomp_rule_add_array(ctx, act, r->nr, r->ncond, cmp);
	if (rc < 0)
		log_warnx("policy: seccomp rule for %s (%s): %s", r->name,
		    r->group, strerror(-rc));
	return rc < 0 ? -1 : 0;
}

static int
rule_add(scmp_filter_ctx ctx, const struct policy_rule *r)
{
	return rule_add_act(ctx, r, r->action == POLICY_ERRNO ?
	    SCMP_ACT_ERRNO((uint32_t)r->err) : SCMP_ACT_ALLOW);
}

#if defined(__SANITIZE_ADDRESS__)
/*
 * ASan builds (make asan) only: the sanitizer runtime sets up alternate
 * signal stacks per thread and asks for the CPU set; allowed on top of
 * every policy so the same sandboxes can run under asan-check.
 */
static int
sanitizer_rules(scmp_filter_ctx ctx)
{
	static const char *const calls[] = { "sigaltstack",
	    "sched_getaffinity" };
	size_t i;
	int rc;

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    seccomp_syscall_resolve_name(calls[i]), 0);
		if (rc < 0 && rc != -EEXIST)
			return -1;
	}
	return 0;
}
#else
#define sanitizer_rules(ctx)	0
#endif

void *
policy_seccomp_build(const struct policy *p, int seccomp_log)
{
	scmp_filter_ctx ctx;
	size_t i;

	ctx = seccomp_init(seccomp_log ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL) {
		log_warnx("policy %s: seccomp_init failed", p->name);
		return NULL;
	}
	/* Threads that already exist (libxenstore's reader) get it too. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0)
		goto fail;
	for (i = 0; i < p->nrules; i++)
		if (rule_add(ctx, &p->rules[i]) == -1)
			goto fail;
	if (sanitizer_rules(ctx) == -1)
		goto fail;
	return ctx;
fail:
	log_warnx("policy %s: cannot build the seccomp filter", p->name);
	seccomp_release(ctx);
	return NULL;
}

void *
policy_seccomp_build_drop(const struct policy *p, const char *group)
{
	scmp_filter_ctx ctx;
	size_t i, n = 0;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return NULL;
	/* NO_NEW_PRIVS is already set (sandbox_enter); the loader must not
	 * call prctl for it under a filter that may not allow that */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0)
		goto fail;
	for (i = 0; i < p->nrules; i++) {
		if (strcmp(p->rules[i].group, group) != 0)
			continue;
		if (rule_add_act(ctx, &p->rules[i], SCMP_ACT_KILL_PROCESS) == -1)
			goto fail;
		n++;
	}
	if (n > 0)
		return ctx;
fail:
	log_warnx("policy %s: cannot build the filter dropping %s", p->name,
	    group);
	seccomp_release(ctx);
	return NULL;
}

int
policy_export_pfc(const char *name, int seccomp_log, int fd)
{
	const struct policy *p = policy_find(name);
	scmp_filter_ctx ctx;
	int rc;

	if (p == NULL) {
		errno = ENOENT;
		return -1;
	}
	if ((ctx = policy_seccomp_build(p, seccomp_log)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	rc = seccomp_export_pfc(ctx, fd);
	seccomp_release(ctx);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}
