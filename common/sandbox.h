/*
 * sandbox_enter(): the one place where a devsep process gives up rights,
 * always in the same order (STYLE.md):
 *
 *   (caller has opened what it needs: sockets, dirfds, xenstore, syslog)
 *   -> private mount namespace, hide paths        (policy `mountns`/`hide`)
 *   -> chroot(spec->chroot_dir) or chdir(workdir)  (policy `chroot`)
 *   -> drop supplementary groups, capng clear + keep the policy's `cap`s,
 *      change uid/gid to the policy's `user`
 *   -> rlimits                                    (policy `rlimit`)
 *   -> PR_SET_NO_NEW_PRIVS
 *   -> Landlock: execute only below `exec-dir`s   (when the kernel has it)
 *   -> seccomp allowlist (`allow` / `errno` lines), default: kill process;
 *      spec->seccomp_log: log instead (development only, warned loudly)
 *   -> (caller enters the event loop)
 *
 * Everything per daemon comes from policy/<daemon>.policy, compiled into C
 * tables at build time (common/policy.h).  Read man devsep-policy(5).
 */
#ifndef DEVSEP_SANDBOX_H
#define DEVSEP_SANDBOX_H

struct sandbox_spec {
	const char	*daemon;	/* "watcherd", "hotplugd", "lockd", "broker" */
	const char	*chroot_dir;	/* policy `chroot yes`: chroot here */
	const char	*workdir;	/* no chroot: chdir here (NULL: "/") */
	const char	*exec_dir;	/* policy `exec-dir @spec`: e.g. the
					 * config script_dir (hotplugd) */
	int		 seccomp_log;	/* 1: log violations (development only) */
	int		 no_user;	/* 1: keep the current uid (tests as non-root) */
};

/* Returns 0, or -1 (logged) when a step failed: the caller must exit. */
int	sandbox_enter(const struct sandbox_spec *);

/*
 * The sandbox state for MSG_COMMON_STATUS: a JSON object text such as
 * {"policy":"lockd","seccomp":"kill","uid":..,"caps":[..],"landlock":1}.
 * Empty object before sandbox_enter().
 */
const char *sandbox_status_json(void);

#endif
