/*
 * libFuzzer target for the QMP wire parser (qmp_parse.c): the first byte
 * picks a chunk size, the rest is fed to the line framer in chunks of that
 * size, every complete line goes through qmp_msg_parse().  Proves (under
 * ASan/UBSan) that no input from a hostile QEMU crashes, leaks or reads out
 * of bounds, that no line handed out exceeds QMP_LINE_MAX, and that a
 * parsed message always has one of the four kinds with its fields set.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qemu-broker/qmp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
on_line(const char *line, size_t len, void *arg)
{
	struct qmp_msg m;

	if (len >= QMP_LINE_MAX)
		abort();
	if (qmp_msg_parse(line, len, &m) == 0) {
		if (m.root == NULL || m.kind < QMP_GREETING ||
		    m.kind > QMP_EVENT)
			abort();
		if (m.kind == QMP_RETURN && m.ret == NULL)
			abort();
		if (m.kind == QMP_EVENT && m.event[0] == '\0')
			abort();
		qmp_msg_dispose(&m);
	} else if (m.root != NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct qmp_lines l;
	size_t chunk, off = 1;

	if (size == 0)
		return 0;
	chunk = (size_t)data[0] + 1;
	qmp_lines_init(&l);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		if (qmp_lines_feed(&l, (const char *)data + off, n, on_line,
		    NULL) == -1)
			break;
		off += n;
	}
	return 0;
}
