/* Requesters (devsepctl, watcherd): a reference-counted wrapper so that a
 * reply to a peer that hung up meanwhile is dropped, not sent to a freed
 * channel. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "broker.h"
#include "log.h"
#include "proto.h"
#include "reply.h"

struct client *
client_ref(struct client *c)
{
	if (c != NULL)
		c->refs++;
	return c;
}

void
client_unref(struct client *c)
{
	if (c != NULL && --c->refs == 0)
		free(c);
}

void
client_reply_ok(struct client *c, struct msgbuf *b)
{
	if (c == NULL || c->dead)
		return;
	B->st.ok++;
	if (msgchan_send(c->chan, b) == -1)
		log_warn("reply to pid=%d", (int)msgchan_cred(c->chan)->pid);
}

void
client_reply_err(struct client *c, uint32_t reqid, int err,
    const char *fmt, ...)
{
	struct msgbuf b;
	char buf[512];
	va_list ap;

	if (c == NULL || c->dead)
		return;
	B->st.errors++;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	reply_error_init(&b, reqid, err, buf);
	if (msgchan_send(c->chan, &b) == -1)
		log_warn("error reply to pid=%d",
		    (int)msgchan_cred(c->chan)->pid);
	msgbuf_dispose(&b);
}
