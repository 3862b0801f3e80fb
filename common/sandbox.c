/*
 * INTERIM sandbox_enter(): drops to the daemon's own user (when started as
 * root and the user exists).  Capabilities, rlimits, NO_NEW_PRIVS and
 * seccomp are being added (issue 6); until then it says so loudly.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

int
sandbox_enter(const struct sandbox_spec *s)
{
	char user[64];
	struct passwd *pw;

	snprintf(user, sizeof(user), "devsep-%s", s->daemon);
	if (!s->no_user && getuid() == 0 && strcmp(s->daemon, "hotplugd") != 0 &&
	    (pw = getpwnam(user)) != NULL) {
		if (setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 ||
		    setuid(pw->pw_uid) == -1) {
			log_warn("sandbox: cannot become %s", user);
			return -1;
		}
	}
	if (chdir(s->workdir ? s->workdir : "/") == -1) {
		log_warn("sandbox: chdir");
		return -1;
	}
	log_warnx("sandbox: seccomp/capabilities NOT ENFORCED for %s "
	    "(interim build)", s->daemon);
	return 0;
}
