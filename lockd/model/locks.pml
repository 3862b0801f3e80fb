/*
 * Promela model of devsep-lockd's protocol (common/proto_lock.h), checked
 * with spin by lockd/model/check-model.sh (run by `make check`).
 *
 * What it covers:
 *  - per domain a slow and a fast lock, granted by lockd atomically, FIFO
 *    not modelled (any free-lock grant order), owner death (a client may
 *    crash at marked points; lockd frees its locks at once);
 *  - lockd's order check (all slow locks by ascending domid, then all fast
 *    locks by ascending domid; a request below a held lock is refused);
 *  - domain 0's lifecycle: create (JSON with "dm" first, then QEMU started
 *    under the fast lock), a qmp thing add (slow; fast: JSON describes it;
 *    QMP add; fast again: mark done) and remove (slow; QMP remove; fast:
 *    JSON entry removed), and destroy (DESTROY_BEGIN -> drain of the fast
 *    lock -> QEMU killed -> DM_GONE -> DESTROY_FINISH removes the JSON),
 *    with two destroyers that may crash between any two steps and a second
 *    creator racing them (seed 002's 8-step race), plus destroy of a domain
 *    that does not exist yet (tombstone);
 *  - re-creation: CREATE is refused while a slow lock from the destroyed
 *    incarnation is held (without this rule spin finds the qmp add of the
 *    old incarnation adding its CD to the new QEMU), and the incarnation
 *    check (such a slow lock cannot take the new fast lock);
 *  - two clients taking locks of two domains in opposite orders.
 * Properties: the seed-002 invariant (monitor: nothing in QEMU without a
 * JSON entry) and no deadlock (spin's invalid end states).
 * Not covered: lockd restarts (locks vanish like an owner death of every
 * client; the store is persistent), timeouts (they can only end waits),
 * xenstore devices (same rule with the fast lock as the thing lock).
 *
 * -DBROKEN_DESTROY: the destroyer removes the JSON before killing QEMU.
 * -DBROKEN_ORDER:   lockd does not check the lock order (with -DORDER).
 * -DBROKEN_CREATE:  CREATE ignores a slow lock left from the destroyed
 *                   incarnation.
 * Each must make spin report an error: the model can fail.
 */

#define NONE	255
#define ABSENT	0
#define ACTIVE	1
#define DYING	2
#define NPIDS	12

/* lock ranks: the lockd order (slow 0, slow 1, fast 0, fast 1) */
#define SLOW0	0
#define SLOW1	1
#define FAST0	2
#define FAST1	3
#define DOMOF(r)	((r) % 2)
/* domain 1 is always active (it only serves the lock-order clients) */
#define ACTIVE_DOM(d)	((d) == 1 || dstate == ACTIVE)

byte dstate = ABSENT;	/* domain 0, as lockd's store says */
bool dm_gone;
byte epoch;		/* bumped when domain 0 starts dying */
bool json_dm;		/* domain 0's JSON has a "dm" entry */
bool json_thing;	/* ... and the qmp thing (a CD) */
bool qemu_running;	/* primary config: QEMU exists */
bool qemu_thing;	/* ... and has the CD */

byte holder[4] = NONE;
byte held_epoch[4];
byte heldmask[NPIDS];

/* lockd ACQUIRE (blocking).  ok: granted; else refused or failed. */
inline acquire(r, ok) {
	atomic {
		e = epoch;
		if
#ifndef BROKEN_ORDER
		:: (heldmask[_pid] >> r) != 0 -> ok = false	/* EDEADLK */
		:: else ->
#else
		:: true ->
#endif
		if
		:: !ACTIVE_DOM(DOMOF(r)) -> ok = false		/* ESRCH */
		:: ACTIVE_DOM(DOMOF(r)) && r == FAST0 &&
		   (heldmask[_pid] & (1 << SLOW0)) &&
		   held_epoch[SLOW0] != epoch -> ok = false	/* old incarnation */
		:: else ->
			/* wait: granted, or the domain starts dying (ESRCH) */
			(holder[r] == NONE || e != epoch ||
			 !ACTIVE_DOM(DOMOF(r)));
			if
			:: e == epoch && ACTIVE_DOM(DOMOF(r)) ->
				holder[r] = _pid;
				held_epoch[r] = epoch;
				heldmask[_pid] = heldmask[_pid] | (1 << r);
				ok = true
			:: else -> ok = false
			fi
		fi
		fi
	}
}

inline release(r) {
	atomic {
		assert(holder[r] == _pid);
		holder[r] = NONE;
		heldmask[_pid] = heldmask[_pid] & ~(1 << r)
	}
}

/* The holder died: lockd frees every lock of the connection at once. */
inline release_all() {
	d_step {
		i = 0;
		do
		:: i < 4 ->
			if
			:: holder[i] == _pid -> holder[i] = NONE
			:: else -> skip
			fi;
			i++
		:: else -> break
		od;
		heldmask[_pid] = 0
	}
}

#define CRASH	if :: goto died :: skip fi

proctype Creator() {
	bool ok; byte e, i;

	atomic {
		if
		/* DOMAIN_CREATE: refused (EBUSY) while a slow lock of a
		 * destroyed incarnation is still held: its qmp operation
		 * could otherwise reach the new QEMU (found by this model) */
#ifndef BROKEN_CREATE
		:: dstate == ABSENT && holder[SLOW0] == NONE ->
#else
		:: dstate == ABSENT ->
#endif
			dstate = ACTIVE; json_dm = true; json_thing = false;
			ok = true
		:: else -> ok = false			/* EEXIST / EBUSY */
		fi
	}
	if :: !ok -> goto done :: else -> skip fi;
	CRASH;
	acquire(FAST0, ok);	/* QEMU is primary state: start it under fast */
	if
	:: ok -> qemu_running = true; release(FAST0)
	:: else -> skip
	fi;
	goto done;
died:	release_all();
done:	skip
}

proctype QmpAdd() {
	bool ok; byte e, i;

	acquire(SLOW0, ok);
	if :: !ok -> goto done :: else -> skip fi;
	acquire(FAST0, ok);
	if :: !ok -> goto out :: else -> skip fi;
	json_thing = true;		/* JSON describes the CD first */
	release(FAST0);
	CRASH;
	if				/* QMP add: only a live QEMU */
	:: atomic { qemu_running -> qemu_thing = true }
	:: atomic { !qemu_running -> skip }
	fi;
	CRASH;
	acquire(FAST0, ok);		/* second acquisition: mark done */
	if :: !ok -> goto out :: else -> skip fi;	/* bomb out */
	release(FAST0);
out:	release(SLOW0);
	goto done;
died:	release_all();
done:	skip
}

proctype QmpRemove() {
	bool ok; byte e, i;

	acquire(SLOW0, ok);
	if :: !ok -> goto done :: else -> skip fi;
	qemu_thing = false;		/* QMP eject/remove first */
	CRASH;
	acquire(FAST0, ok);
	if :: !ok -> goto out :: else -> skip fi;	/* stale entry: allowed */
	json_thing = false;
	release(FAST0);
out:	release(SLOW0);
	goto done;
died:	release_all();
done:	skip
}

inline kill_qemu() {
	atomic { qemu_running = false; qemu_thing = false }
}

/* DM_GONE: refused (EINVAL / EBUSY) unless dying and drained */
inline dm_gone_msg() {
	atomic {
		if
		:: dstate == DYING && holder[FAST0] == NONE -> dm_gone = true
		:: else -> skip
		fi
	}
}

inline finish() {
	atomic {
		if
		:: dstate == DYING && dm_gone && holder[FAST0] == NONE ->
			json_dm = false; json_thing = false;
			dstate = ABSENT; dm_gone = false
		:: else -> skip				/* EBUSY */
		fi
	}
}

proctype Destroyer() {
	atomic {					/* DESTROY_BEGIN */
		if
		:: dstate == ABSENT -> dstate = DYING; dm_gone = true
		:: dstate == ACTIVE -> dstate = DYING; epoch++
		:: dstate == DYING -> skip
		fi
	}
	CRASH;
	holder[FAST0] == NONE;				/* drain */
#ifdef BROKEN_DESTROY
	dm_gone_msg();
	finish();
	CRASH;
	kill_qemu();
#else
	CRASH;
	kill_qemu();					/* broker */
	CRASH;
	dm_gone_msg();
	CRASH;
	finish();
#endif
died:	skip
}

/* Two clients taking locks of two domains in opposite orders. */
proctype Multi(byte first; byte second) {
	bool ok; byte e, i;

	acquire(first, ok);
	if :: !ok -> goto done :: else -> skip fi;
	acquire(second, ok);
	if :: ok -> release(second) :: else -> skip fi;	/* EDEADLK: give up */
	release(first);
done:	skip
}

active proctype Monitor() {
end:	atomic {
		!((!qemu_running || json_dm) && (!qemu_thing || json_thing)) ->
		assert(false)
	}
}

/*
 * Two configurations keep each search small:
 *   default:  the lifecycle race on domain 0 (seed 002)
 *   -DORDER:  lock-order clients on two domains (deadlock freedom)
 */
init {
	atomic {
#ifdef ORDER
		dstate = ACTIVE;
		run Multi(SLOW1, FAST0);
		run Multi(FAST0, SLOW1);
		run Multi(SLOW0, SLOW1);
		run Multi(SLOW1, SLOW0);
		run Multi(FAST1, FAST0);
#else
		run Creator();
		run QmpAdd();
		run QmpRemove();
		run Destroyer();
		run Destroyer();
		run Creator();
#endif
	}
}
