/*
 * unit-run: starts a command under the parts of a systemd unit's sandbox
 * that can be rebuilt without systemd as PID 1 (test-units.sh):
 *
 *   unit-run [-nm] [-c CAPS] [-s SYSCALL]... -- COMMAND ARGS...
 *
 *   -c CAPS     capability bounding set, as CapabilityBoundingSet=
 *               ("CAP_CHOWN CAP_SETUID ...": every other one is dropped)
 *   -s SYSCALL  killed like SystemCallFilter=~... does (SIGSYS, the whole
 *               process); repeated, names as systemd-analyze lists them
 *               (names this architecture lacks are ignored)
 *   -n          NoNewPrivileges=yes
 *   -m          MemoryDenyWriteExecute=yes, as systemd builds it: mmap
 *               asking for PROT_WRITE and PROT_EXEC together, mprotect /
 *               pkey_mprotect adding PROT_EXEC and shmat with SHM_EXEC
 *               fail with EPERM
 *
 * The filter is installed last, like systemd does, so the command's own
 * setup (and its own seccomp filter) runs under it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cap-ng.h>
#include <seccomp.h>

#define MAX_SYSCALLS 512

static void
usage(void)
{
	fprintf(stderr, "usage: unit-run [-nm] [-c CAPS] [-s SYSCALL]... -- "
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

/* systemd's seccomp_memory_deny_write_execute() */
static int
add_mdwe(scmp_filter_ctx ctx)
{
	const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
	const scmp_datum_t wx = PROT_WRITE | PROT_EXEC;

	return seccomp_rule_add(ctx, eperm, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, wx, wx)) ||
	    seccomp_rule_add(ctx, eperm, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)) ||
	    seccomp_rule_add(ctx, eperm, SCMP_SYS(pkey_mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)) ||
	    seccomp_rule_add(ctx, eperm, SCMP_SYS(shmat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC));
}

static void
deny_syscalls(char **names, int n, int mdwe)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int i, nr;

	if (ctx == NULL)
		exit(1);
	if (mdwe && add_mdwe(ctx) != 0) {
		fprintf(stderr, "unit-run: MemoryDenyWriteExecute rules\n");
		exit(1);
	}
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
	int ch, n = 0, nnp = 0, mdwe = 0;

	while ((ch = getopt(argc, argv, "nmc:s:")) != -1) {
		switch (ch) {
		case 'n': nnp = 1; break;
		case 'm': mdwe = 1; break;
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
	if (n > 0 || mdwe)
		deny_syscalls(names, n, mdwe);
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "unit-run: %s: %s\n", argv[optind], strerror(errno));
	return 127;
}
