/*
 * The broker's privileged half ("launcher"), forked before the broker drops
 * to its user (the OpenSSH monitor pattern, inverted: the small part keeps
 * the rights).  It only spawns QEMUs, signals them and reaps them; it never
 * parses QMP, never opens images, never talks to other daemons.  Its one
 * peer is the broker, over a private SOCK_SEQPACKET socketpair:
 *
 *   MSG_LAUNCH_SPAWN  broker -> launcher: u32 domid, u32 kind
 *                     (LAUNCH_KIND_*), u32 memory_mb, u32 n_cdrom,
 *                     n_cdrom x u32 devid; fd = QEMU's end of the QMP
 *                     socketpair.  Reply MSG_COMMON_OK {u32 pid, u32 uid,
 *                     str chroot} or MSG_COMMON_ERROR.
 *   MSG_LAUNCH_KILL   broker -> launcher: u32 pid, u32 signal.  No reply;
 *                     ignored for a pid the launcher did not spawn.
 *   MSG_LAUNCH_EXITED launcher -> broker: u32 pid, i64 wait status
 *                     (the QEMU is reaped; its uid is free again).
 *
 *   MSG_LAUNCH_ADOPT  broker -> launcher: u32 pid, u32 domid.  A QEMU
 *                     that a previous launcher started (now a child of
 *                     init): tracked by pidfd if its uids are base+domid,
 *                     so KILL and EXITED work for it.  No reply.
 *
 *   MSG_LAUNCH_XLQMP  broker -> launcher: u32 domid.  Connects (as root)
 *                     to libxl's QMP socket <libxl_run_dir>/qmp-libxl-
 *                     <domid> of a device model that xl started; reply
 *                     MSG_COMMON_OK {u32 pid, u32 uid} (SO_PEERCRED) with
 *                     the connected socket as fd, or MSG_COMMON_ERROR.
 *                     The launcher never reads or writes on it.
 *
 * When the broker goes away the launcher exits and leaves every QEMU
 * running: device models outlive a broker crash, restart or upgrade.  Each
 * QEMU's QMP socket is a path (<run_dir>/qmp, qemu-broker/qmpsock.c), so
 * the next broker connects again and adopts it.
 */
#ifndef BROKER_LAUNCHER_H
#define BROKER_LAUNCHER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

enum msg_launch {
	MSG_LAUNCH_SPAWN	= 380,
	MSG_LAUNCH_KILL		= 381,
	MSG_LAUNCH_EXITED	= 382,
	MSG_LAUNCH_ADOPT	= 383,
	MSG_LAUNCH_XLQMP	= 384,
};

#define LAUNCH_KIND_DM		0u	/* a device model (tests, HVM) */
#define LAUNCH_KIND_QDISK	1u	/* a driver domain's qdisk backend */
#define LAUNCH_MAX_CHILDREN	256
#define LAUNCH_ARGV_MAX		64
#define LAUNCH_MAX_CDROMS	4	/* SPAWN: empty ide-cd drives */

struct launch_req {
	uint32_t	domid;
	uint32_t	kind;
	uint32_t	memory_mb;
	uint32_t	n_cdrom;
	uint32_t	cdrom[LAUNCH_MAX_CDROMS];
};

/*
 * One struct per message of the launcher channel, with its put/get
 * (qemu-broker/launch_msg.c; the rules of common/proto_hotplug.h: the
 * caller initializes b as that message, put writes the payload; get
 * reads all of it or fails with the struct zeroed).  SPAWN's request is
 * struct launch_req (n_cdrom at most LAUNCH_MAX_CDROMS); the fds (SPAWN's
 * QMP end, XLQMP's connection) are passed beside the payload.
 */
#define LAUNCH_CHROOT_MAX	(CONFIG_PATH_MAX + 32)	/* with the NUL */

struct launch_spawned {			/* OK of SPAWN */
	uint32_t	pid, uid;
	char		chroot[LAUNCH_CHROOT_MAX];
};
struct launch_kill {			/* MSG_LAUNCH_KILL */
	uint32_t	pid, signal;
};
struct launch_exited {			/* MSG_LAUNCH_EXITED */
	uint32_t	pid;
	int64_t		status;		/* wait status */
};
struct launch_adopt {			/* MSG_LAUNCH_ADOPT */
	uint32_t	pid, domid;
};
struct launch_xlqmp {			/* MSG_LAUNCH_XLQMP */
	uint32_t	domid;
};
struct launch_xlqmp_ok {		/* OK of XLQMP (fd: the connection) */
	uint32_t	pid, uid;
};

struct msgbuf;
struct msg;
void	launch_spawn_put(struct msgbuf *, const struct launch_req *);
int	launch_spawn_get(struct msg *, struct launch_req *);
#define LAUNCH_CODEC(name)						\
void	launch_##name##_put(struct msgbuf *, const struct launch_##name *); \
int	launch_##name##_get(struct msg *, struct launch_##name *)
LAUNCH_CODEC(spawned);
LAUNCH_CODEC(kill);
LAUNCH_CODEC(exited);
LAUNCH_CODEC(adopt);
LAUNCH_CODEC(xlqmp);
LAUNCH_CODEC(xlqmp_ok);
#undef LAUNCH_CODEC

struct launch_opts {
	int		qdisk_test_machine;	/* qdisk QEMU as -machine pc */
};

/*
 * Forks the launcher.  Returns the broker's end of the socketpair (the
 * launcher's pid in *pid); the launcher child never returns.
 */
int	launcher_fork(const struct devsep_config *, const struct launch_opts *,
	    pid_t *pid);

/* ---- pure helpers (qemu_args.c), unit-tested ---- */
/*
 * Builds QEMU's argv into argv[] (pointers into buf).  qmp_fd is the fd
 * number QEMU will find its QMP socket at.  Returns argc or -1 (too big,
 * bad request).
 */
int	qemu_args_build(const struct launch_req *, const struct launch_opts *,
	    const char *binary, const char *chroot_dir, int qmp_fd,
	    char *buf, size_t bufsz, char **argv, size_t maxargs);
/* uid for a domain's QEMU: base + domid, -1 on overflow. */
int64_t	qemu_uid(uint32_t base, uint32_t domid);
/* Checks a launch request's fields; 0 or -1. */
int	launch_req_valid(const struct launch_req *);

/* ---- jail.c: in the forked child, as root, right before exec ---- */
/* setrlimits, bounding set, groups/gid/uid, ambient CAP_SYS_CHROOT,
 * NO_NEW_PRIVS.  Returns 0 or -errno. */
int	jail_enter(uid_t uid);

#endif
