/*
 * fake-qemu: a hostile QMP peer for the broker tests, installed as the
 * broker's qemu_binary.  The broker starts it like QEMU (uid base+domid,
 * QMP on fd 3); the domain id in "-name devsep-dm-<domid>" picks how it
 * misbehaves:
 *
 *   901  greeting, then silence (capabilities never answered)
 *   902  greeting, then a line of garbage
 *   903  greeting, then one 2 MiB line
 *   904  negotiates, then never answers a command
 *   905  negotiates, then exits in the middle of the first command
 *   906  negotiates, then answers every command with a wrong id
 *   907  negotiates, then answers the first command with garbage
 *   908  negotiates, then answers the first command with a 2 MiB line
 *   909  the well-behaved default below, but every answer 300 ms late
 *   else negotiates, then plays a one-drive QEMU: add-fd gives set 0,
 *        query-block shows cd3 with /dev/fdset/0 while a medium is in,
 *        query-fdsets is empty, anything else gets {}
 * "quit" is answered (and obeyed) only by the well-behaved default.
 */
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#define QMP 3

static void
say(const char *s)
{
	size_t n = strlen(s);

	if (write(QMP, s, n) != (ssize_t)n)
		exit(1);
}

static void
big_line(void)
{
	static char buf[64 * 1024];
	int i;

	memset(buf, 'x', sizeof(buf));
	say("{\"return\": \"");
	for (i = 0; i < 32; i++)
		if (write(QMP, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			exit(1);
	say("\"}\n");
}

static int
mode_of(int argc, char **argv)
{
	int i;

	for (i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "-name") == 0 &&
		    strncmp(argv[i + 1], "devsep-dm-", 10) == 0)
			return (int)strtol(argv[i + 1] + 10, NULL, 10);
	return 0;
}

/* Reads one line (blocking); NULL at EOF. */
static json_t *
next_cmd(void)
{
	static char line[1 << 16];
	size_t n = 0;
	char c;

	while (read(QMP, &c, 1) == 1) {
		if (c == '\n') {
			line[n] = '\0';
			return json_loads(line, 0, NULL);
		}
		if (n + 1 < sizeof(line))
			line[n++] = c;
	}
	return NULL;
}

static int medium;

/* The well-behaved default's canned answers. */
static const char *
canned(const char *ex)
{
	if (ex == NULL)
		return "{}";
	if (strcmp(ex, "add-fd") == 0)
		return "{\"fdset-id\": 0, \"fd\": 9}";
	if (strcmp(ex, "blockdev-change-medium") == 0)
		medium = 1;
	if (strcmp(ex, "eject") == 0)
		medium = 0;
	if (strcmp(ex, "query-block") == 0)
		return medium ? "[{\"qdev\": \"cd3\", \"inserted\": "
		    "{\"file\": \"/dev/fdset/0\"}}]" : "[{\"qdev\": \"cd3\"}]";
	if (strcmp(ex, "query-fdsets") == 0)
		return "[]";
	return "{}";
}

static void
answer(json_t *cmd, const char *ret, long long id_delta)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "{\"return\": %s, \"id\": %lld}\n", ret,
	    (long long)json_integer_value(json_object_get(cmd, "id")) +
	    id_delta);
	say(buf);
}

int
main(int argc, char **argv)
{
	int mode = mode_of(argc, argv), first = 1, on = 0, c;
	socklen_t len = sizeof(on);
	json_t *cmd;

	/* fd 3 is a listening socket, as QEMU's server=on chardev gets it */
	if (getsockopt(QMP, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on &&
	    ((c = accept(QMP, NULL, NULL)) == -1 || dup2(c, QMP) == -1))
		return 1;
	say("{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n");
	if (mode == 901)	/* read and ignore (pause() is not in the
				 * launcher's seccomp policy) */
		while ((cmd = next_cmd()) != NULL)
			json_decref(cmd);
	if (mode == 902)
		say("this is not json\n");
	if (mode == 903)
		big_line();
	if ((cmd = next_cmd()) == NULL)
		return 0;
	answer(cmd, "{}", 0);	/* qmp_capabilities */
	while ((cmd = next_cmd()) != NULL) {
		const char *ex = json_string_value(json_object_get(cmd,
		    "execute"));
		if (mode == 904)
			continue;
		if (mode == 905)
			_exit(1);
		if (mode == 906)
			answer(cmd, "{}", 1000);
		else if (mode == 907 && first)
			say("{\"return\": {}, \"id\": \n");
		else if (mode == 908 && first)
			big_line();
		else if (mode >= 901 && mode <= 908)
			continue;
		else {
			if (mode == 909)
				usleep(300 * 1000);
			answer(cmd, canned(ex), 0);
			if (ex != NULL && strcmp(ex, "quit") == 0)
				return 0;
		}
		first = 0;
		json_decref(cmd);
	}
	return 0;
}
