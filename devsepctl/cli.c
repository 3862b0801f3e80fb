/*
 * devsepctl: global options, the command table, exit codes (ctl.h).
 * main() is in main.c so the unit tests can link everything else.
 *
 *   devsepctl [-c config] [--rundir DIR] [--json] [-t timeout] COMMAND ...
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "daemon.h"
#include "parse.h"

static const struct ctl_cmd cmds[] = {
	{ "status", "[DAEMON...]",
	  "which daemons run here: version, uptime, sandbox", cmd_status },
	{ "stats", "[DAEMON...]",
	  "counters and latency histograms of every running daemon",
	  cmd_stats },
	{ "devices", "[--domid N]",
	  "every device watcherd tracks: states, hotplug, last script",
	  cmd_devices },
	{ "locks", "[--domid N]",
	  "per-domain slow/fast locks, holders and waiters (lockd)",
	  cmd_locks },
	{ "check", "[--backend-domid N]",
	  "JSON config vs xenstore and QEMU (seed-002 invariant)",
	  cmd_check },
	{ "policy", "show DAEMON [--pfc] | list",
	  "a daemon's sandbox policy, or its seccomp filter", cmd_policy },
	{ "dm-start", "DOMID [--cdrom DEVID]... [--memory MB] [--run]",
	  "start a guest's deprivileged QEMU (broker)", cmd_dm_start },
	{ "dm-destroy", "DOMID [--wait MS]",
	  "stop a guest's QEMU (after lockd's destroy began)",
	  cmd_dm_destroy },
	{ "cd-insert", "DOMID DEVID IMAGE",
	  "insert a CD-ROM image into a guest's QEMU (broker)",
	  cmd_cd_insert },
	{ "cd-eject", "DOMID DEVID", "eject a guest's CD-ROM (broker)",
	  cmd_cd_eject },
	{ "disk-add", "DOMID DEVID IMAGE [--ro] [--bus virtio|scsi]",
	  "hot-add a disk to a guest's QEMU (broker)", cmd_disk_add },
	{ "disk-remove", "DOMID DEVID",
	  "hot-remove a disk from a guest's QEMU (broker)", cmd_disk_remove },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

void
ctl_usage(struct ctl *c, int to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;
	size_t i;

	fprintf(f, "usage: %s [-c config] [--rundir DIR] [--json] "
	    "[-t timeout] COMMAND [ARGS]\n\ncommands:\n", c->prog);
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %s %s\n      %s\n", cmds[i].name, cmds[i].args,
		    cmds[i].help);
	fprintf(f, "\nexit: 0 ok, 1 failed, 2 usage, 3 daemon not running, "
	    "4 invariant violated, 5 no answer\n");
}

static int
set_rundir(struct ctl *c, const char *v)
{
	if (v[0] != '/' || strlen(v) >= sizeof(c->rundir)) {
		fprintf(stderr, "%s: --rundir needs an absolute path shorter "
		    "than %zu bytes\n", c->prog, sizeof(c->rundir));
		return -1;
	}
	strcpy(c->rundir, v);
	return 0;
}

static int
load_config(struct ctl *c, const char *rundir)
{
	char err[512];
	int missing_ok = strcmp(c->config_path, DEVSEP_CONF_PATH) == 0;

	config_defaults(&c->cfg);
	if (config_load(&c->cfg, c->config_path, missing_ok, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", c->prog, err);
		return -1;
	}
	return set_rundir(c, rundir ? rundir : c->cfg.run_dir);
}

int
ctl_parse_global(struct ctl *c, int argc, char **argv, int *rc)
{
	static const struct option lo[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "rundir",	required_argument,	NULL, 'r' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rundir = NULL;
	uint32_t ms;
	int ch;

	c->config_path = DEVSEP_CONF_PATH;
	c->timeout_ms = -1;
	*rc = CTL_USAGE;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+c:jt:hV", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': c->config_path = optarg; break;
		case 'r': rundir = optarg; break;
		case 'j': c->json = 1; break;
		case 't':
			if (parse_duration_ms(optarg, &ms) == -1 ||
			    ms > 3600000) {
				fprintf(stderr, "%s: bad timeout '%s' (e.g. "
				    "500ms, 10s)\n", c->prog, optarg);
				return -1;
			}
			c->timeout_ms = (int)ms;
			break;
		case 'h': ctl_usage(c, 0); *rc = CTL_OK; return -1;
		case 'V':
			printf("devsepctl %s\n", DEVSEP_VERSION);
			*rc = CTL_OK;
			return -1;
		default: ctl_usage(c, 1); return -1;
		}
	}
	if (load_config(c, rundir) == -1)
		return -1;
	if (optind >= argc) {
		ctl_usage(c, 1);
		return -1;
	}
	*rc = CTL_OK;
	return optind;
}

int
ctl_run(struct ctl *c, int argc, char **argv)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return cmds[i].fn(c, argc, argv);
	fprintf(stderr, "%s: unknown command '%s' (try %s --help)\n", c->prog,
	    argv[0], c->prog);
	return CTL_USAGE;
}

int
ctl_arg_domid(struct ctl *c, const char *s, uint32_t *domid)
{
	if (parse_domid(s, domid) == 0)
		return 0;
	fprintf(stderr, "%s: bad domain id '%s' (0..%u)\n", c->prog, s,
	    (unsigned)DOMID_MAX);
	return -1;
}

int
ctl_arg_u32(struct ctl *c, const char *what, const char *s, uint32_t *v)
{
	if (parse_u32(s, UINT32_MAX - 1, v) == 0)
		return 0;
	fprintf(stderr, "%s: bad %s '%s' (a decimal number)\n", c->prog,
	    what, s);
	return -1;
}


int
ctl_args_domid(struct ctl *c, int argc, char **argv, const char *opt,
    const char *usage, uint32_t *domid, int *set)
{
	const struct option lo[] = {
		{ opt, required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*set = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch != 'd' || ctl_arg_domid(c, optarg, domid) == -1)
			return CTL_USAGE;
		*set = 1;
	}
	if (optind != argc) {
		fprintf(stderr, "usage: %s %s\n", c->prog, usage);
		return CTL_USAGE;
	}
	return CTL_OK;
}
