/* QMP line framing and message classification.  See qmp_parse.h. */
#include <string.h>

#include "qmp_parse.h"

void
qmp_lines_init(struct qmp_lines *l)
{
	l->len = 0;
}

static int
emit(const char *line, size_t len, qmp_line_cb cb, void *arg)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 0;
	return cb(line, len, arg);
}

int
qmp_lines_feed(struct qmp_lines *l, const char *data, size_t n,
    qmp_line_cb cb, void *arg)
{
	const char *nl;
	size_t take;

	while (n > 0) {
		nl = memchr(data, '\n', n);
		take = nl ? (size_t)(nl - data) : n;
		if (l->len + take > sizeof(l->buf) ||
		    (nl == NULL && l->len + take == sizeof(l->buf)))
			return -1;	/* line longer than QMP_LINE_MAX */
		memcpy(l->buf + l->len, data, take);
		l->len += take;
		if (nl == NULL)
			return 0;
		data += take + 1;
		n -= take + 1;
		take = l->len;
		l->len = 0;
		if (emit(l->buf, take, cb, arg) == -1)
			return -1;
	}
	return 0;
}

static int
copy_str(char *dst, size_t dstsz, json_t *v)
{
	const char *s;

	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	strncpy(dst, s, dstsz - 1);
	dst[dstsz - 1] = '\0';
	return 0;
}

static int
parse_id(struct qmp_msg *m)
{
	json_t *id = json_object_get(m->root, "id");
	json_int_t v;

	if (id == NULL || !json_is_integer(id))
		return 0;	/* absent or foreign: matches nothing */
	v = json_integer_value(id);
	if (v < 0)
		return 0;
	m->has_id = 1;
	m->id = (uint64_t)v;
	return 0;
}

static int
parse_error(struct qmp_msg *m, json_t *err)
{
	if (!json_is_object(err))
		return -1;
	if (copy_str(m->errclass, sizeof(m->errclass),
	    json_object_get(err, "class")) == -1)
		return -1;
	if (copy_str(m->errdesc, sizeof(m->errdesc),
	    json_object_get(err, "desc")) == -1)
		return -1;
	m->kind = QMP_ERROR;
	return parse_id(m);
}

static int
parse_event(struct qmp_msg *m, json_t *ev)
{
	if (copy_str(m->event, sizeof(m->event), ev) == -1 ||
	    m->event[0] == '\0' ||
	    strlen(json_string_value(ev)) >= sizeof(m->event))
		return -1;
	m->data = json_object_get(m->root, "data");
	if (m->data != NULL && !json_is_object(m->data))
		return -1;
	m->kind = QMP_EVENT;
	return 0;
}

static int
classify(struct qmp_msg *m)
{
	json_t *v;

	if (!json_is_object(m->root))
		return -1;
	if ((v = json_object_get(m->root, "return")) != NULL) {
		m->kind = QMP_RETURN;
		m->ret = v;
		return parse_id(m);
	}
	if ((v = json_object_get(m->root, "error")) != NULL)
		return parse_error(m, v);
	if ((v = json_object_get(m->root, "event")) != NULL)
		return parse_event(m, v);
	if ((v = json_object_get(m->root, "QMP")) != NULL &&
	    json_is_object(v)) {
		m->kind = QMP_GREETING;
		return 0;
	}
	return -1;
}

int
qmp_msg_parse(const char *line, size_t len, struct qmp_msg *m)
{
	json_error_t jerr;

	memset(m, 0, sizeof(*m));
	if (len > QMP_LINE_MAX)
		return -1;
	/* JSON_REJECT_DUPLICATES: a lying peer cannot smuggle two ids */
	m->root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (m->root == NULL)
		return -1;
	if (classify(m) == -1) {
		qmp_msg_dispose(m);
		return -1;
	}
	return 0;
}

void
qmp_msg_dispose(struct qmp_msg *m)
{
	if (m->root != NULL)
		json_decref(m->root);
	memset(m, 0, sizeof(*m));
}
