/*
 * QMP wire parsing, separate from any I/O so it can be unit-tested and
 * fuzzed (qemu-broker/fuzz/fuzz_qmp.c).  QEMU is untrusted: every line is
 * bounded (QMP_LINE_MAX; a longer line is a protocol error for that QEMU),
 * every message must be a JSON object of one of the four known shapes.
 *
 *   {"QMP": {...}}                          greeting
 *   {"return": <any>, "id": <u64>}          command success
 *   {"error": {"class","desc"}, "id": <u64>} command failure
 *   {"event": "NAME", "data": {...}, ...}   asynchronous event
 *
 * "id" is what the broker sent (a number); a reply without one, or with an
 * id of another type, is returned with has_id = 0 and left to the caller
 * (it matches no command and is counted as a lie).
 */
#ifndef BROKER_QMP_PARSE_H
#define BROKER_QMP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define QMP_LINE_MAX	(64 * 1024)

/* ---- line framing ---- */
struct qmp_lines {
	char	 buf[QMP_LINE_MAX];
	size_t	 len;
};

/* Returns 0 to continue, -1 to stop (error already decided by the cb). */
typedef int (*qmp_line_cb)(const char *line, size_t len, void *arg);

void	qmp_lines_init(struct qmp_lines *);
/*
 * Appends data and calls cb once per complete line ("\n"-terminated, "\r"
 * stripped, empty lines skipped).  Returns 0, or -1 when a line exceeds
 * QMP_LINE_MAX or the callback stopped.
 */
int	qmp_lines_feed(struct qmp_lines *, const char *data, size_t n,
	    qmp_line_cb, void *arg);

/* ---- message classification ---- */
enum qmp_kind { QMP_GREETING = 1, QMP_RETURN, QMP_ERROR, QMP_EVENT };

struct qmp_msg {
	enum qmp_kind	 kind;
	int		 has_id;
	uint64_t	 id;
	json_t		*root;		/* the whole object (owned) */
	json_t		*ret;		/* QMP_RETURN: borrowed from root */
	json_t		*data;		/* QMP_EVENT: borrowed, may be NULL */
	char		 event[64];	/* QMP_EVENT name */
	char		 errclass[64];	/* QMP_ERROR */
	char		 errdesc[256];	/* QMP_ERROR, truncated */
};

/* 0, or -1 (not JSON, not an object, unknown shape, bad field types). */
int	qmp_msg_parse(const char *line, size_t len, struct qmp_msg *);
void	qmp_msg_dispose(struct qmp_msg *);

#endif
