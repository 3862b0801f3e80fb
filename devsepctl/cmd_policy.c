/*
 * policy show DAEMON [--pfc] / policy list: what a daemon is allowed to
 * do, from the policy tables compiled into this build (common/policy.h,
 * generated from policy/<daemon>.policy - the same tables sandbox_enter()
 * loads).  No daemon is contacted: this works on any host.
 *
 *   show          the policy text, as the auditor reads it
 *   show --pfc    the seccomp filter sandbox_enter() would load
 *                 (libseccomp pseudo filter code, seccomp_log of the
 *                 configuration)
 *   --json show   the tables: user, chroot, capabilities, rlimits,
 *                 syscall rules, and the IPC matrix (who may send what)
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "policy.h"

/* "watcherd", "devsep-qemu-broker", "broker" -> the policy's name. */
static const struct policy *
find(const char *name)
{
	const struct ctl_daemon *d = ctl_daemon_find(name);
	const struct policy *p;

	if ((p = policy_find(name)) == NULL && d != NULL)
		p = policy_find(d->name);
	return p;
}

static json_t *
peers_json(uint32_t bits)
{
	json_t *a = json_array();
	uint32_t b;

	for (b = 1; b != 0 && b <= PEER_ADMIN; b <<= 1)
		if (bits & b)
			json_array_append_new(a, json_string(
			    peer_class_name(b)));
	return a;
}

static json_t *
rule_json(const struct policy_rule *r)
{
	json_t *conds = json_array();
	unsigned i;

	for (i = 0; i < r->ncond; i++)
		json_array_append_new(conds, json_string(r->cond[i].text ?
		    r->cond[i].text : ""));
	return json_pack("{s:s, s:s, s:s, s:i, s:o}", "syscall", r->name,
	    "group", r->group ? r->group : "", "action",
	    r->action == POLICY_ALLOW ? "allow" : "errno", "errno", r->err,
	    "conditions", conds);
}

static json_t *
policy_json(const struct policy *p)
{
	json_t *caps = json_array(), *rl = json_object(), *rules =
	    json_array(), *msgs = json_array();
	size_t i;

	for (i = 0; i < p->ncaps; i++)
		json_array_append_new(caps, json_string(p->caps[i].name));
	for (i = 0; i < p->nrlimits; i++)
		json_object_set_new(rl, p->rlimits[i].name,
		    json_integer((json_int_t)p->rlimits[i].value));
	for (i = 0; i < p->nrules; i++)
		json_array_append_new(rules, rule_json(&p->rules[i]));
	for (i = 0; i < p->nmsgs; i++)
		json_array_append_new(msgs, json_pack("{s:i, s:s, s:o}",
		    "type", (int)p->msgs[i].type, "name", p->msgs[i].name,
		    "peers", peers_json(p->msgs[i].peers)));
	return json_pack("{s:s, s:s, s:b, s:b, s:o, s:o, s:o, s:o}",
	    "daemon", p->name, "user", p->user, "chroot", p->chroot,
	    "mountns", p->mountns, "capabilities", caps, "rlimits", rl,
	    "syscalls", rules, "messages", msgs);
}

static int
policy_list(struct ctl *c)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < policy_count; i++) {
		if (c->json)
			json_array_append_new(a, json_string(
			    policy_all[i]->name));
		else
			printf("%s\n", policy_all[i]->name);
	}
	if (c->json)
		ctl_print_json(a);
	json_decref(a);
	return CTL_OK;
}

static int
policy_show(struct ctl *c, const char *name, int pfc)
{
	const struct policy *p = find(name);
	json_t *j;
	int r;

	if (p == NULL) {
		fprintf(stderr, "%s: no policy '%s' in this build (see "
		    "'%s policy list')\n", c->prog, name, c->prog);
		return CTL_USAGE;
	}
	fflush(stdout);
	if (pfc)
		r = policy_export_pfc(p->name, c->cfg.seccomp_log, STDOUT_FILENO);
	else if (c->json) {
		j = policy_json(p);
		ctl_print_json(j);
		json_decref(j);
		r = 0;
	} else
		r = policy_print(p->name, STDOUT_FILENO);
	if (r == -1) {
		fprintf(stderr, "%s: cannot print the policy of %s\n",
		    c->prog, p->name);
		return CTL_FAILED;
	}
	return CTL_OK;
}

int
cmd_policy(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pfc", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, pfc = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch != 'p')
			goto usage;
		pfc = 1;
	}
	argc -= optind;
	argv += optind;
	if (argc == 1 && strcmp(argv[0], "list") == 0 && !pfc)
		return policy_list(c);
	if (argc == 2 && strcmp(argv[0], "show") == 0)
		return policy_show(c, argv[1], pfc);
usage:
	fprintf(stderr, "usage: %s policy show DAEMON [--pfc] | policy list\n",
	    c->prog);
	return CTL_USAGE;
}
