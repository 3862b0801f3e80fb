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
	  "which devsep daemons run here: version, uptime, sandbox",
	  "Asks each daemon (or only the ones named: watcherd, hotplugd,\n"
	  "lockd, broker) whether it runs and answers, and shows its version,\n"
	  "uptime, the user it runs as and its sandbox.  A daemon that is\n"
	  "not running is shown as such.\n\n"
	  "Exit status 3 when a daemon named is not running, or when none\n"
	  "runs at all.\n\n"
	  "Example:\n  devsepctl status\n  devsepctl status watcherd hotplugd",
	  cmd_status },
	{ "stats", "[DAEMON...]",
	  "counters and timings of every running daemon",
	  "Shows each running daemon's counters (devices attached and\n"
	  "removed, scripts run, failed and timed out, locks taken, QMP\n"
	  "commands...) and latency histograms.\n\n"
	  "Example:\n  devsepctl stats watcherd",
	  cmd_stats },
	{ "devices", "[--domid N]",
	  "every device watcherd looks after: states, hotplug, last script",
	  "Lists the guests' devices the xenstore watcher tracks: kind\n"
	  "(vbd, vif...), guest, device number, backend and frontend state,\n"
	  "hotplug-status, where the device is in its life, and how the last\n"
	  "hotplug script ended.  Below the table, every device whose last\n"
	  "script failed, with the reason in words (the same text as its\n"
	  "hotplug-error node, which xl shows).\n\n"
	  "  --domid N   only the devices of guest N\n\n"
	  "Example:\n  devsepctl devices --domid 5",
	  cmd_devices },
	{ "locks", "[--domid N]",
	  "per-guest configuration locks: who holds and who waits (lockd)",
	  "Shows, per guest, the two configuration locks devsep-lockd\n"
	  "manages (the long \"slow\" lock held during a device change and\n"
	  "the short \"fast\" lock held while the configuration is\n"
	  "rewritten), who holds them and who waits.\n\n"
	  "  --domid N   only guest N\n\n"
	  "Example:\n  devsepctl locks",
	  cmd_locks },
	{ "check", "[--backend-domid N]",
	  "compare each guest's saved configuration with xenstore and QEMU",
	  "Reads each guest's saved configuration (lockd) and compares it\n"
	  "with what really exists: devices in xenstore and CD-ROMs and\n"
	  "disks in the guest's QEMU.  Anything that exists but is missing\n"
	  "from the saved configuration is reported (it would be lost at the\n"
	  "next save, migration or restart of the guest).\n\n"
	  "  --backend-domid N   the domain whose backends to look at\n"
	  "                      (default: this domain)\n\n"
	  "Exit status 4 when something is found.\n\n"
	  "Example:\n  devsepctl check",
	  cmd_check },
	{ "policy", "show DAEMON [--pfc] | list",
	  "a daemon's sandbox: user, capabilities, system calls, who may ask",
	  "Prints the sandbox policy built into the daemons: the user a\n"
	  "daemon runs as, the capabilities it keeps, the system calls it may\n"
	  "make and which peer may send it which request.\n\n"
	  "  list          the policies\n"
	  "  show DAEMON   one of them (devsep-watcherd, ...)\n"
	  "  --pfc         the seccomp filter as the kernel gets it\n\n"
	  "Example:\n  devsepctl policy show devsep-hotplugd",
	  cmd_policy },
	{ "dm-start", "DOMID [--cdrom DEVID]... [--memory MB] [--run]",
	  "start a guest's device model (QEMU) through the broker",
	  "Asks devsep-qemu-broker to start the device model of guest DOMID:\n"
	  "a QEMU running as its own user, in an empty chroot, under a\n"
	  "seccomp filter.  Prints its pid and user.\n\n"
	  "  --cdrom DEVID   give it a CD-ROM drive (repeat for more)\n"
	  "  --memory MB     its memory size\n"
	  "  --run           let it run (default: created paused)\n\n"
	  "Example:\n  devsepctl dm-start 5 --cdrom 768",
	  cmd_dm_start },
	{ "dm-destroy", "DOMID [--wait MS]",
	  "stop a guest's device model (QEMU)",
	  "Asks the broker to stop guest DOMID's QEMU and waits until it is\n"
	  "gone.  The guest's destruction must have begun in lockd first.\n\n"
	  "  --wait MS   how long to wait for QEMU to exit\n\n"
	  "Example:\n  devsepctl dm-destroy 5",
	  cmd_dm_destroy },
	{ "cd-insert", "DOMID DEVID IMAGE",
	  "insert a CD-ROM image into a guest's drive",
	  "Opens IMAGE (it must be in one of image_dirs, devsep.conf(5)),\n"
	  "inserts it into CD-ROM drive DEVID of guest DOMID's QEMU, saves\n"
	  "it in the guest's configuration and updates xenstore.\n\n"
	  "Example:\n  devsepctl cd-insert 5 768 /var/lib/xen/images/debian.iso",
	  cmd_cd_insert },
	{ "cd-eject", "DOMID DEVID", "eject a guest's CD-ROM",
	  "Ejects the medium from CD-ROM drive DEVID of guest DOMID, removes\n"
	  "it from the guest's configuration and updates xenstore.\n\n"
	  "Example:\n  devsepctl cd-eject 5 768",
	  cmd_cd_eject },
	{ "disk-add", "DOMID DEVID IMAGE [--ro] [--bus virtio|scsi]",
	  "hot-add a disk image to a guest",
	  "Opens IMAGE (in one of image_dirs) and adds it as disk DEVID to\n"
	  "guest DOMID's QEMU while the guest runs, then saves it in the\n"
	  "guest's configuration.\n\n"
	  "  --ro              read-only\n"
	  "  --bus virtio|scsi the disk's bus (default virtio)\n\n"
	  "Example:\n  devsepctl disk-add 5 2 /var/lib/xen/images/data.img --ro",
	  cmd_disk_add },
	{ "disk-remove", "DOMID DEVID",
	  "hot-remove a disk from a guest",
	  "Asks guest DOMID to release disk DEVID, removes it from its QEMU\n"
	  "and from the guest's configuration.  Fails with a timeout (and\n"
	  "keeps the disk) when the guest does not release it.\n\n"
	  "Example:\n  devsepctl disk-remove 5 2",
	  cmd_disk_remove },
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
	fprintf(f, "\n`%s help COMMAND` or `%s COMMAND -h` explains one "
	    "command.\n\nexit: 0 ok, 1 failed, 2 usage, 3 daemon not "
	    "running, 4 check found a problem, 5 no answer\n", c->prog,
	    c->prog);
}

static void
cmd_help_print(struct ctl *c, const struct ctl_cmd *cmd)
{
	printf("usage: %s %s %s\n\n%s.\n\n%s\n", c->prog, cmd->name,
	    cmd->args, cmd->help, cmd->detail);
}

static const struct ctl_cmd *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(name, cmds[i].name) == 0)
			return &cmds[i];
	return NULL;
}

/* `help [COMMAND]` */
static int
ctl_help(struct ctl *c, int argc, char **argv)
{
	const struct ctl_cmd *cmd;

	if (argc < 2) {
		ctl_usage(c, 0);
		return CTL_OK;
	}
	if (argc > 2 || (cmd = cmd_find(argv[1])) == NULL) {
		fprintf(stderr, "%s: unknown command '%s' (try %s help)\n",
		    c->prog, argv[1], c->prog);
		return CTL_USAGE;
	}
	cmd_help_print(c, cmd);
	return CTL_OK;
}

/* -h or --help among a command's arguments (before "--"). */
static int
wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
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
	const struct ctl_cmd *cmd;

	if (strcmp(argv[0], "help") == 0)
		return ctl_help(c, argc, argv);
	if ((cmd = cmd_find(argv[0])) == NULL) {
		fprintf(stderr, "%s: unknown command '%s' (try %s help)\n",
		    c->prog, argv[0], c->prog);
		return CTL_USAGE;
	}
	if (wants_help(argc, argv)) {
		cmd_help_print(c, cmd);
		return CTL_OK;
	}
	return cmd->fn(c, argc, argv);
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
