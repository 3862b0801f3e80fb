/* MSG_COMMON_ERROR: see reply.h. */
#include "codec.h"
#include "proto.h"
#include "reply.h"

void
reply_error_init(struct msgbuf *b, uint32_t reqid, int err, const char *text)
{
	msgbuf_init(b, MSG_COMMON_ERROR, reqid);
	msgbuf_put_u32(b, (uint32_t)err);
	msgbuf_put_str(b, text != NULL ? text : "");
}

int
reply_error_send(int fd, uint32_t reqid, int err, const char *text)
{
	struct msgbuf b;
	int r;

	reply_error_init(&b, reqid, err, text);
	r = msg_send_fd(fd, &b);
	msgbuf_dispose(&b);
	return r;
}

int
reply_error_get(struct msg *m, uint32_t *err, char *text, size_t textsz)
{
	if (msg_get_u32(m, err) == -1 ||
	    msg_get_str(m, text, textsz) == -1 || msg_end(m) == -1) {
		if (textsz > 0)
			text[0] = '\0';
		return -1;
	}
	return 0;
}

void
reply_json_put(struct msgbuf *b, const struct reply_json *r)
{
	msgbuf_put_blob(b, r->json, r->len);
}

int
reply_json_get(struct msg *m, uint32_t type, size_t max, struct reply_json *r)
{
	const void *p;
	int ok = m->hdr.type == type &&
	    msg_get_blob(m, &p, &r->len, max) == 0;

	if (ok)
		r->json = p;
	return codec_get_end(m, ok, r, sizeof(*r));
}
