/*
 * Guest liveness (liveness.h): the rule and the table of guests.
 *
 * guest_next(state, evidence) -> next state.  "=" = unchanged.
 *
 *   state \ evidence   LIFE    NONE      GONE   UNKNOWN
 *   ----------------   -----   -------   ----   -------
 *   UNKNOWN            ALIVE   PENDING   DEAD   =
 *   PENDING            ALIVE   =         DEAD   =
 *   ALIVE              =       DEAD (1)  DEAD   =
 *   DEAD               ALIVE (2) =       =      =
 *
 * (1) seen alive by this watcherd, and the evidence is gone: dom0 - it was
 *     introduced and xenstored released it (destroyed; or libxl's soft
 *     reset, which releases the domain to make its backends disconnect);
 *     driver domain - its frontend dirs were readable and no longer are.
 * (2) a new domain under the same domid (xenstored introduces only live
 *     domains; a frontend readable again is one the toolstack made).
 *     DEAD is otherwise sticky: the domain dir may be the dead domain's,
 *     not yet removed by the toolstack.
 *
 * What is NOT evidence of death: "not introduced" alone (a migration's
 * receiver plugs devices before the domain is introduced), EACCES in a
 * driver domain alone, another guest's @releaseDomain.
 */
#include <string.h>

#include "liveness.h"
#include "parse.h"

static const uint8_t next[G__COUNT][E__COUNT] = {
	/*		 UNKNOWN     NONE       LIFE     GONE */
	[G_UNKNOWN] = { G_UNKNOWN, G_PENDING, G_ALIVE, G_DEAD },
	[G_PENDING] = { G_PENDING, G_PENDING, G_ALIVE, G_DEAD },
	[G_ALIVE]   = { G_ALIVE,   G_DEAD,    G_ALIVE, G_DEAD },
	[G_DEAD]    = { G_DEAD,    G_DEAD,    G_ALIVE, G_DEAD },
};

int
guest_next(int state, int evidence)
{
	if (state < 0 || state >= G__COUNT || evidence < 0 ||
	    evidence >= E__COUNT)
		return state;
	return next[state][evidence];
}

static uint8_t	 gstate[DOMID_MAX + 1];
static uint32_t	 gdevs[DOMID_MAX + 1];	/* tracked devices per guest */

int
guest_state(uint32_t domid)
{
	return domid <= DOMID_MAX ? gstate[domid] : G_UNKNOWN;
}

void
guest_set(uint32_t domid, int state)
{
	if (domid <= DOMID_MAX && state >= 0 && state < G__COUNT)
		gstate[domid] = (uint8_t)state;
}

void
guest_dev_added(uint32_t domid)
{
	if (domid <= DOMID_MAX)
		gdevs[domid]++;
}

/* The last device gone: what we knew of the guest no longer matters. */
void
guest_dev_freed(uint32_t domid)
{
	if (domid <= DOMID_MAX && gdevs[domid] > 0 && --gdevs[domid] == 0)
		gstate[domid] = G_UNKNOWN;
}

/* On a new xenstore connection: "seen introduced" was the old one's. */
void
guests_forget(void)
{
	memset(gstate, 0, sizeof(gstate));
}

const char *
guest_state_name(int s)
{
	static const char *const n[G__COUNT] = {
		"unknown", "pending", "alive", "dead" };

	return s >= 0 && s < G__COUNT ? n[s] : "?";
}

const char *
guest_evidence_name(int e)
{
	static const char *const n[E__COUNT] = {
		"unknown", "none", "life", "gone" };

	return e >= 0 && e < E__COUNT ? n[e] : "?";
}
