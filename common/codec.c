/* Helpers of the per-message codecs (codec.h). */
#include <errno.h>
#include <string.h>

#include "codec.h"

void
codec_put_str(struct msgbuf *b, const char *s, size_t size)
{
	if (strnlen(s, size) == size) {
		if (b->err == 0)
			b->err = EINVAL;
		return;
	}
	msgbuf_put_str(b, s);
}

int
codec_put_type(struct msgbuf *b, uint32_t type)
{
	struct msg_hdr h;

	if (b->data == NULL || b->len < MSG_HDR_SIZE)
		goto bad;
	memcpy(&h, b->data, sizeof(h));
	if (h.type == type)
		return 0;
bad:
	if (b->err == 0)
		b->err = EINVAL;
	return -1;
}

int
codec_set_str(char *dst, size_t size, const char *s)
{
	size_t n = strnlen(s, size);

	if (n == size) {
		memcpy(dst, s, size);
		return -1;
	}
	memcpy(dst, s, n + 1);
	return 0;
}

int
codec_get_end(struct msg *m, int ok, void *out, size_t size)
{
	if (ok && msg_end(m) == 0)
		return 0;
	memset(out, 0, size);
	return -1;
}
