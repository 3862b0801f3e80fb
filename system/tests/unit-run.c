/*
 * unit-run: starts a command under the parts of a systemd unit's sandbox
 * that can be rebuilt without systemd as PID 1 (test-units.sh):
 *
 *   unit-run [-n] [-c CAPS] [-s SYSCALL]... -- COMMAND ARGS...
 *
 *   -c CAPS     capability bounding set, as CapabilityBoundingSet=
 *               ("CAP_CHOWN CAP_SETUID ...": every other one is dropped)
 *   -s SYSCALL  killed like SystemCallFilter=~... does (SIGSYS, the whole
 *               process); repeated, names as systemd-analyze lists them
 *               (names this architecture lacks are ignored)
 *   -n          NoNewPrivileges=yes
 *
 * The filter is installed last, like systemd does, so the command's own
 * setup (and its own seccomp filter) runs under it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cap-ng.h>
#include <seccomp.h>

#define MAX_SYSCALLS 512

static void
usage(void)
{
	fprintf(stderr, "usage: unit-run [-n] [-c CAPS] [-s SYSCALL]... -- "
	    "COMMAND ARGS...\n");
	exit(2);
}

static void
bound_caps(char *caps)
{
	char *tok, *save = NULL;
	int c;

	capng_get_caps_process();
	capng_clear(CAPNG_SELECT_BOUNDS);
	for (tok = strtok_r(caps, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if (strncmp(tok, "CAP_", 4) == 0)
			tok += 4;
		if ((c = capng_name_to_capability(tok)) < 0) {
			fprintf(stderr, "unit-run: unknown capability %s\n",
			    tok);
			exit(2);
		}
		capng_update(CAPNG_ADD, CAPNG_BOUNDING_SET, (unsigned)c);
	}
	if (capng_apply(CAPNG_SELECT_BOUNDS) != 0) {
		fprintf(stderr, "unit-run: cannot set the bounding set\n");
		exit(1);
	}
}

static void
deny_syscalls(char **names, int n)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int i, nr;

	if (ctx == NULL)
		exit(1);
	for (i = 0; i < n; i++) {
		nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue;	/* not on this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0) != 0) {
			fprintf(stderr, "unit-run: rule %s\n", names[i]);
			exit(1);
		}
	}
	if (seccomp_load(ctx) != 0) {
		fprintf(stderr, "unit-run: seccomp_load failed\n");
		exit(1);
	}
	seccomp_release(ctx);
}

int
main(int argc, char **argv)
{
	char *names[MAX_SYSCALLS], *caps = NULL;
	int ch, n = 0, nnp = 0;

	while ((ch = getopt(argc, argv, "nc:s:")) != -1) {
		switch (ch) {
		case 'n': nnp = 1; break;
		case 'c': caps = optarg; break;
		case 's':
			if (n == MAX_SYSCALLS)
				usage();
			names[n++] = optarg;
			break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	if (caps != NULL)
		bound_caps(caps);
	if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		perror("unit-run: PR_SET_NO_NEW_PRIVS");
		return 1;
	}
	if (n > 0)
		deny_syscalls(names, n);
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "unit-run: %s: %s\n", argv[optind], strerror(errno));
	return 127;
}
