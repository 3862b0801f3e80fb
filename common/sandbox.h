/*
 * sandbox_enter(): the one place where a devsep process gives up rights,
 * always in the same order (STYLE.md):
 *
 *   (caller has opened what it needs)
 *   -> chroot/chdir -> drop supplementary groups, capng clear/update,
 *      change uid/gid -> rlimits -> PR_SET_NO_NEW_PRIVS -> seccomp
 *   -> (caller enters the event loop)
 *
 * The per-daemon data (syscalls, argument rules, capabilities, user) comes
 * from policy/<daemon>.policy, compiled into C tables at build time.
 */
#ifndef DEVSEP_SANDBOX_H
#define DEVSEP_SANDBOX_H

struct sandbox_spec {
	const char	*daemon;	/* "watcherd", "hotplugd", "lockd", "broker" */
	const char	*chroot_dir;	/* NULL: no chroot, chdir(workdir) */
	const char	*workdir;	/* NULL: "/" */
	int		 seccomp_log;	/* 1: log violations (development only) */
	int		 no_user;	/* 1: keep the current uid (tests as non-root) */
};

/* Returns 0, or -1 (logged) when a step failed: the caller must exit. */
int	sandbox_enter(const struct sandbox_spec *);

#endif
