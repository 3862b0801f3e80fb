/*
 * Helpers of the per-message codecs (common/proto_*.c): string fields
 * kept in fixed arrays, and the one way a get ends.
 */
#ifndef DEVSEP_CODEC_H
#define DEVSEP_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

/* Puts string field f (an array): its NUL must be inside the array, else
 * b fails with EINVAL. */
#define CODEC_PUT_STR(b, f)	codec_put_str((b), (f), sizeof(f))
/* Gets string field f (an array): at most sizeof(f) - 1 bytes, no NUL. */
#define CODEC_GET_STR(m, f)	msg_get_str((m), (f), sizeof(f))

void	codec_put_str(struct msgbuf *, const char *, size_t size);
/* 0 when b was initialized as a message of type (msgbuf_init or
 * msgbuf_init_buf); else b fails with EINVAL and -1. */
int	codec_put_type(struct msgbuf *, uint32_t type);
/*
 * Sets string field f (an array) to s: 0 when it fits; else -1 and f holds
 * sizeof(f) bytes with no NUL, so that a put of it fails (EINVAL) rather
 * than sending a truncated value.
 */
#define CODEC_SET_STR(f, s)	codec_set_str((f), sizeof(f), (s))
int	codec_set_str(char *, size_t size, const char *);
/*
 * The end of every get: ok (every field read) and no byte left -> 0; else
 * out (size bytes) is zeroed -> -1.
 */
int	codec_get_end(struct msg *, int ok, void *out, size_t size);

#endif
