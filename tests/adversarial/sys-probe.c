/*
 * sys-probe: makes one system call that a hotplug script must not be able
 * to make at all (tests/adversarial/test-hostile-script.sh): the launcher's
 * own calls (policy/scripts.policy group @launcher) kill a script by SIGSYS.
 *
 *   sys-probe setresuid | setgroups | seccomp
 *
 * Each call is harmless when it is allowed: setresuid(-1, -1, -1) changes
 * nothing and succeeds, setgroups(0, NULL) fails EPERM without
 * CAP_SETGID, seccomp(SECCOMP_GET_ACTION_AVAIL) asks a question.  Exit 0
 * or 1 from the call; killed by the filter the shell sees 159.
 */
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/seccomp.h>

int
main(int argc, char **argv)
{
	unsigned int act = SECCOMP_RET_KILL_PROCESS;
	long r;

	if (argc != 2) {
		fprintf(stderr, "usage: sys-probe setresuid|setgroups|seccomp\n");
		return 2;
	}
	if (strcmp(argv[1], "setresuid") == 0)
		r = setresuid((uid_t)-1, (uid_t)-1, (uid_t)-1);
	else if (strcmp(argv[1], "setgroups") == 0)
		r = setgroups(0, NULL);
	else if (strcmp(argv[1], "seccomp") == 0)
		r = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act);
	else
		return 2;
	return r == 0 ? 0 : 1;
}
