/*
 * xs-raw: sends one raw xenstore wire message (any type, any payload) to a
 * xenstored socket and prints the reply, so a hostile script can try every
 * message type on its scoped proxy (tests/adversarial/test-hostile-script.sh).
 *
 *   xs-raw SOCKET TYPE [ARG...]
 *
 * The payload is the ARGs, each followed by a NUL byte (as libxenstore
 * sends paths and values).  Prints "reply <type> <payload, NULs as '|'>".
 * Exit 0 when the reply has the request's type (accepted), 1 when it is
 * XS_ERROR, 2 when the socket is closed or unreachable.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

static int
read_all(int fd, void *buf, size_t n)
{
	ssize_t r;
	size_t got = 0;

	while (got < n) {
		r = read(fd, (char *)buf + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct xsd_sockmsg h = { 0 };
	char out[XENSTORE_PAYLOAD_MAX + 1], in[XENSTORE_PAYLOAD_MAX + 1];
	size_t len = 0, n;
	int fd, i;

	if (argc < 3 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: xs-raw SOCKET TYPE [ARG...]\n");
		return 2;
	}
	for (i = 3; i < argc; i++) {
		n = strlen(argv[i]) + 1;
		if (len + n > XENSTORE_PAYLOAD_MAX)
			return 2;
		memcpy(out + len, argv[i], n);
		len += n;
	}
	strcpy(sun.sun_path, argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return 2;
	h.type = (uint32_t)strtoul(argv[2], NULL, 0);
	h.req_id = 7;
	h.len = (uint32_t)len;
	if (write(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    write(fd, out, len) != (ssize_t)len ||
	    read_all(fd, &h, sizeof(h)) == -1 ||
	    h.len > XENSTORE_PAYLOAD_MAX || read_all(fd, in, h.len) == -1) {
		printf("reply closed\n");
		return 2;
	}
	for (n = 0; n < h.len; n++)
		if (in[n] == '\0')
			in[n] = '|';
	in[h.len] = '\0';
	printf("reply %u %s\n", h.type, in);
	if (h.type == XS_ERROR)		/* also the reply to a sent XS_ERROR */
		return 1;
	return h.type == (uint32_t)strtoul(argv[2], NULL, 0) ? 0 : 1;
}
