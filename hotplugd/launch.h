/*
 * hotplugd's script launcher, forked before hotplugd drops its rights (the
 * broker's launcher pattern): hotplugd itself never executes anything and
 * keeps no capability; the launcher keeps exactly what starting a script
 * needs (policy/scripts.policy) and only does that.  Its one peer is
 * hotplugd, over a private SOCK_SEQPACKET socketpair:
 *
 *   MSG_HPL_SPAWN   hotplugd -> launcher: u64 job_id, u32 slot, str exe,
 *                   u32 argc, argc x str, u32 envc, envc x str; fd = the
 *                   job cgroup's cgroup.procs (opened by hotplugd), absent
 *                   when hotplugd runs without cgroups (not root).
 *                   Reply MSG_COMMON_OK {u32 pid, u32 uid} with fd = the
 *                   read end of the script's stdout+stderr pipe, once exec
 *                   worked; or MSG_COMMON_ERROR {errno, text}.
 *   MSG_HPL_SIGNAL  hotplugd -> launcher: u32 pid, u32 signal (SIGTERM or
 *                   SIGKILL) to that script's process group.  No reply;
 *                   ignored for a pid the launcher did not spawn.
 *   MSG_HPL_EXITED  launcher -> hotplugd: u32 pid, i64 wait status.
 *
 * The child, before exec: own session; moved into the job's cgroup; stdin
 * /dev/null, stdout+stderr the pipe, no other fd; umask 002; RLIMIT_NPROC;
 * bounding set = {NET_ADMIN}; no supplementary group, gid devsep-script
 * (the group of the loop devices: system/udev), uid
 * script_uid_base + slot (every uid change done with CAP_SETUID, which is
 * then gone); CAP_NET_ADMIN as its only (ambient) capability.  The launcher's
 * own seccomp filter (scripts.policy), Landlock exec dirs and mount
 * namespace are inherited.  When hotplugd goes away the launcher exits;
 * the jobs' cgroups are killed by hotplugd (or its successor).
 */
#ifndef HOTPLUGD_LAUNCH_H
#define HOTPLUGD_LAUNCH_H

#include <stdint.h>
#include <sys/types.h>

enum msg_hpl {
	MSG_HPL_SPAWN	= 190,
	MSG_HPL_SIGNAL	= 191,
	MSG_HPL_EXITED	= 192,
};

#define HPL_SLOTS	1024	/* job slots = uids script_uid_base + 0..1023 */
#define HPL_ARGS_MAX	8
#define HPL_ENV_MAX	16
#define HPL_STR_MAX	512
#define HPL_MSG_MAX	16384
#define HPL_NPROC	256	/* processes per job uid (RLIMIT_NPROC) */
#define HPL_SCRIPT_GROUP SCRIPT_GROUP	/* every job's gid (common/msg.h) */

struct hpl_ids {
	uid_t	uid_base;	/* config script_uid_base */
	gid_t	gid;		/* devsep-script */
};

/* Forks the launcher (as root, before hotplugd's sandbox).  Returns
 * hotplugd's end of the socketpair, the launcher's pid in *pid; the child
 * never returns. */
int	launcher_fork(const struct hpl_ids *, int seccomp_log,
	    const char *exec_dir, pid_t *pid);

/* The ids for the launcher: groups looked up by name.  0 or -1 (logged). */
int	launcher_ids(uint32_t uid_base, struct hpl_ids *);

#endif
