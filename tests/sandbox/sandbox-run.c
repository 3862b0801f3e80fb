/*
 * sandbox-run: applies a daemon's sandbox (sandbox_enter, exactly as the
 * daemon does) and then executes a command inside it.  Used to prove that
 * the real Xen hotplug scripts run under hotplugd's policy
 * (tests/sandbox/test-scripts.sh) and to measure what a command needs.
 *
 *   sandbox-run [--log] [--chroot DIR] [--exec-dir DIR] DAEMON CMD [ARG...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

int
main(int argc, char **argv)
{
	struct sandbox_spec s = { 0 };
	int i = 1;

	log_init("sandbox-run", 1, LOG_LEVEL_INFO);
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--log") == 0)
			s.seccomp_log = 1;
		else if (strcmp(argv[i], "--chroot") == 0)
			s.chroot_dir = argv[++i];
		else if (strcmp(argv[i], "--exec-dir") == 0)
			s.exec_dir = argv[++i];
		else
			break;
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: sandbox-run [--log] [--chroot DIR] "
		    "[--exec-dir DIR] DAEMON CMD [ARG...]\n");
		return 2;
	}
	s.daemon = argv[i];
	if (sandbox_enter(&s) == -1)
		return 111;
	execvp(argv[i + 1], argv + i + 1);
	perror(argv[i + 1]);
	return 127;
}
