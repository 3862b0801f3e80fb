/*
 * Script output: stdout+stderr arrive through one non-blocking pipe and are
 * logged one line per output line with the job's fields, up to config
 * script_output_max bytes per job; the rest is read, counted and dropped,
 * so a chatty script never blocks on a full pipe and never grows our memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "hotplugd.h"
#include "log.h"

#define OUT_CHUNK	16384
#define OUT_READS	8	/* reads per callback: fairness between jobs */

static void
emit_line(struct job *j)
{
	size_t i;

	j->line[j->line_len] = '\0';
	for (i = 0; i < j->line_len; i++)
		if ((unsigned char)j->line[i] < 0x20 ||
		    (unsigned char)j->line[i] == 0x7f)
			j->line[i] = '?';
	log_info("job=%llu domid=%u kind=%s devid=%u script=%s out: %s",
	    (unsigned long long)j->id, j->domid, j->kind, j->devid,
	    j->script, j->line);
	if (j->line_len > 0) {
		memcpy(j->tail, j->line, j->line_len < sizeof(j->tail) ?
		    j->line_len + 1 : sizeof(j->tail));
		j->tail[sizeof(j->tail) - 1] = '\0';
	}
	j->line_len = 0;
}

static void
feed(struct job *j, const char *buf, size_t n)
{
	size_t i;
	uint64_t max = hp->cfg.script_output_max;

	for (i = 0; i < n; i++) {
		if (j->out_logged >= max) {
			j->out_dropped += n - i;
			hp->st.output_dropped += n - i;
			return;
		}
		j->out_logged++;
		if (buf[i] == '\n') {
			emit_line(j);
			continue;
		}
		j->line[j->line_len++] = buf[i];
		if (j->line_len == HP_LINE_MAX)
			emit_line(j);
	}
}

/* Returns 1 at EOF or error (pipe finished), 0 when it would block. */
static int
read_some(struct job *j, int nreads)
{
	char buf[OUT_CHUNK];
	ssize_t n;

	while (nreads-- > 0) {
		n = read(j->out_fd, buf, sizeof(buf));
		if (n > 0) {
			feed(j, buf, (size_t)n);
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return 1;
	}
	return 0;
}

static void
out_close(struct job *j)
{
	if (j->line_len > 0)
		emit_line(j);
	if (j->ev_out != NULL) {
		event_free(j->ev_out);
		j->ev_out = NULL;
	}
	if (j->out_fd != -1) {
		close(j->out_fd);
		j->out_fd = -1;
	}
}

static void
out_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct job *j = arg;

	if (read_some(j, OUT_READS)) {
		out_close(j);
	}
}

int
output_start(struct job *j, int fd)
{
	j->out_fd = fd;
	j->ev_out = event_new(hp->base, fd, EV_READ | EV_PERSIST, out_cb, j);
	if (j->ev_out == NULL || event_add(j->ev_out, NULL) == -1) {
		if (j->ev_out != NULL)
			event_free(j->ev_out);
		j->ev_out = NULL;
		j->out_fd = -1;
		return -1;
	}
	return 0;
}

/*
 * The main child has been reaped: take what is already in the pipe (bounded:
 * a grandchild may still be writing) and close it, so a grandchild holding
 * the write end cannot keep the job alive.
 */
void
output_drain_close(struct job *j)
{
	if (j->out_fd != -1)
		(void)read_some(j, 64 * 1024 / OUT_CHUNK + 1);
	out_close(j);
}
