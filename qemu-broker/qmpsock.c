/*
 * QMP sockets that outlive the broker.  Each QEMU's QMP monitor listens on
 * <run_dir>/qmp/<kind>-<domid>.sock ("dm-5.sock", "qdisk-7.sock"), a dir
 * only the broker's user can enter.  The broker binds the socket and hands
 * it to the launcher; the QEMU child calls listen() after its uid change
 * (so SO_PEERCRED of a connection names QEMU: pid and uid base+domid) and
 * QEMU serves it with -chardev socket,fd=3,server=on,wait=off.  A broker
 * that restarts connects again (QEMU accepts one QMP client at a time).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker.h"
#include "daemon.h"
#include "log.h"
#include "parse.h"

#define QMPSOCK_DIR	"qmp"

static const char *
kind_name(uint32_t kind)
{
	return kind == LAUNCH_KIND_QDISK ? "qdisk" : "dm";
}

int
qmpsock_path(uint32_t kind, uint32_t domid, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	return xsnprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s/%s-%u.sock",
	    B->cfg.run_dir, QMPSOCK_DIR, kind_name(kind), domid);
}

/*
 * <run_dir>/qmp, 0700, owned by uid:gid (the broker's user) when we are
 * root: opened below the run dir without following a link and changed
 * through the fd (daemon_opendir), never a chown/chmod by path.
 */
int
qmpsock_dir_prepare(uid_t uid, gid_t gid)
{
	int root = getuid() == 0, rfd, fd;

	if ((rfd = daemon_opendir(AT_FDCWD, B->cfg.run_dir, RUNDIR_MODE,
	    (uid_t)-1, (gid_t)-1)) == -1)
		return -1;
	fd = daemon_opendir(rfd, QMPSOCK_DIR, 0700, root ? uid : (uid_t)-1,
	    root ? gid : (gid_t)-1);
	close(rfd);
	if (fd == -1)
		return -1;
	close(fd);
	return 0;
}

int
qmpsock_bind(uint32_t kind, uint32_t domid)
{
	struct sockaddr_un sa;
	int fd, rc;

	if (qmpsock_path(kind, domid, &sa) == -1)
		return -ENAMETOOLONG;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	unlink(sa.sun_path);	/* a stale one: its QEMU is gone (EEXIST
				   checked by the caller: no dm for it) */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int
qmpsock_connect(uint32_t kind, uint32_t domid, struct ucred *peer)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(*peer);
	int fd, rc;

	if (qmpsock_path(kind, domid, &sa) == -1)
		return -ENAMETOOLONG;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, peer, &len) == -1) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

void
qmpsock_remove(uint32_t kind, uint32_t domid)
{
	struct sockaddr_un sa;

	if (qmpsock_path(kind, domid, &sa) != -1)
		unlink(sa.sun_path);
}

/* "dm-<domid>.sock" / "qdisk-<domid>.sock"; 0 or -1. */
static int
parse_name(const char *name, uint32_t *kind, uint32_t *domid)
{
	char num[16];
	const char *p, *dot;

	if (strncmp(name, "dm-", 3) == 0) {
		*kind = LAUNCH_KIND_DM;
		p = name + 3;
	} else if (strncmp(name, "qdisk-", 6) == 0) {
		*kind = LAUNCH_KIND_QDISK;
		p = name + 6;
	} else
		return -1;
	if ((dot = strchr(p, '.')) == NULL || strcmp(dot, ".sock") != 0 ||
	    (size_t)(dot - p) >= sizeof(num))
		return -1;
	memcpy(num, p, (size_t)(dot - p));
	num[dot - p] = '\0';
	return parse_domid(num, domid);
}

int
qmpsock_scan(void (*fn)(void *, uint32_t kind, uint32_t domid), void *arg)
{
	char dir[CONFIG_PATH_MAX + 8];
	struct dirent *de;
	uint32_t kind, domid;
	DIR *d;
	int n = 0;

	if (xsnprintf(dir, sizeof(dir), "%s/%s", B->cfg.run_dir,
	    QMPSOCK_DIR) == -1 || (d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (parse_name(de->d_name, &kind, &domid) == 0) {
			fn(arg, kind, domid);
			n++;
		}
	closedir(d);
	return n;
}
