/*
 * Guest liveness: when watcherd takes a guest (a frontend domain) for dead
 * and tears its devices down.  One rule, used by the start-up scan and at
 * run time: a guest is dead only on positive evidence.  The rule is the
 * pure function guest_next() over the table in liveness.c (also in
 * docs/WATCHERD.md "Guest death"; tests/test_liveness.c checks every
 * cell).  The evidence comes from xenstore (scan.c, guest_evidence):
 *
 *   dom0 (privileged)   introduced -> LIFE; not introduced and
 *                       /local/domain/<id> absent -> GONE; not introduced,
 *                       dir present -> NONE (e.g. a migration's receiver,
 *                       whose devices are plugged before it is introduced)
 *   driver domain       a frontend dir of its devices readable -> LIFE;
 *                       ENOENT -> GONE; EACCES -> NONE (xenstored answers
 *                       EACCES for a missing node under an unreadable
 *                       parent AND for a node we may not read)
 *
 * The table of guests (state and tracked-device count per domid) lives
 * here too; a guest whose last device is freed is forgotten (UNKNOWN).
 */
#ifndef WATCHERD_LIVENESS_H
#define WATCHERD_LIVENESS_H

#include <stdint.h>

enum guest_state {
	G_UNKNOWN,	/* not asked since it got devices / since connect */
	G_PENDING,	/* asked: no evidence of life, none of death */
	G_ALIVE,	/* this watcherd saw evidence of life */
	G_DEAD,		/* evidence of death: its devices are torn down */
	G__COUNT
};

enum guest_evidence {
	E_UNKNOWN,	/* could not ask (error, disconnected) */
	E_NONE,		/* neither life nor death */
	E_LIFE,		/* introduced / a frontend readable */
	E_GONE,		/* domain dir / frontend positively absent */
	E__COUNT
};

#define G_MASK(s)	(1u << (s))
/* the guests a check asks about (scan_guests) */
#define GUESTS_NOT_DEAD	(G_MASK(G_UNKNOWN) | G_MASK(G_PENDING) | G_MASK(G_ALIVE))
#define GUESTS_UNSEEN	(G_MASK(G_UNKNOWN) | G_MASK(G_PENDING))

/* The rule.  Pure. */
int		 guest_next(int state, int evidence);

/* The table of guests (domid <= DOMID_MAX; others are never dead). */
int		 guest_state(uint32_t domid);
void		 guest_set(uint32_t domid, int state);
void		 guest_dev_added(uint32_t domid);
void		 guest_dev_freed(uint32_t domid);
void		 guests_forget(void);	/* every guest UNKNOWN */

const char	*guest_state_name(int);
const char	*guest_evidence_name(int);

#endif
