/* Domain records and the destroy protocol (see domain.h, proto_lock.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "log.h"
#include "parse.h"
#include "proto_lock.h"
#include "store.h"

static struct dom	*doms[DOMID_MAX + 1];
static size_t		 ndoms;
static int		 store_fd = -1;
static struct locktable	*ltab;

const char *
dom_state_name(enum lt_dstate st)
{
	switch (st) {
	case LT_ACTIVE:	return "active";
	case LT_DYING:	return "dying";
	case LT_BROKEN:	return "broken";
	default:	return "absent";
	}
}

static struct dom *
dom_new(uint32_t domid)
{
	struct dom *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->domid = domid;
	doms[domid] = d;
	ndoms++;
	return d;
}

static void
dom_free(struct dom *d)
{
	doms[d->domid] = NULL;
	ndoms--;
	if (d->config != NULL)
		json_decref(d->config);
	free(d);
}

static void
dom_loaded(void *arg, uint32_t domid, const struct store_rec *r,
    const char *err)
{
	uint64_t now = *(uint64_t *)arg;
	struct dom *d;

	if ((d = dom_new(domid)) == NULL)
		fatal("dom_loaded");
	if (r == NULL) {
		log_warnx("store: domid=%u: corrupt dom%u.json refused: %s; "
		    "its locks fail with EIO until it is destroyed", domid,
		    domid, err);
		d->state = LT_BROKEN;
		snprintf(d->broken_why, sizeof(d->broken_why), "%s", err);
	} else {
		d->state = r->dying ? LT_DYING : LT_ACTIVE;
		d->dm_gone = r->dm_gone;
		d->gen = r->gen;
		d->config = r->config ? json_incref(r->config) : NULL;
		log_info("store: domid=%u loaded state=%s generation=%llu",
		    domid, dom_state_name(d->state),
		    (unsigned long long)d->gen);
	}
	lt_domain_set(ltab, domid, d->state, now);
}

int
dom_init(int dirfd, struct locktable *lt, uint64_t now)
{
	int n;

	store_fd = dirfd;
	ltab = lt;
	if ((n = store_scan(dirfd, dom_loaded, &now)) < 0)
		return n;
	return (int)ndoms;
}

void
dom_shutdown(void)
{
	size_t i;

	for (i = 0; i <= DOMID_MAX; i++)
		if (doms[i] != NULL)
			dom_free(doms[i]);
}

static struct dom *
dom_get(uint32_t domid)
{
	return domid <= DOMID_MAX ? doms[domid] : NULL;
}

const struct dom *
dom_lookup(uint32_t domid)
{
	return dom_get(domid);
}

size_t
dom_count(void)
{
	return ndoms;
}

void
dom_foreach(void (*fn)(void *, const struct dom *), void *arg)
{
	size_t i;

	for (i = 0; i <= DOMID_MAX; i++)
		if (doms[i] != NULL)
			fn(arg, doms[i]);
}

static int fail(int, char *, size_t, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(int rc, char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	return rc;
}

/* Writes the record that d would have with the given fields. */
static int
dom_persist(const struct dom *d, enum lt_dstate st, int dm_gone,
    uint64_t gen, json_t *config, char *why, size_t whysz)
{
	struct store_rec r = { .domid = d->domid, .dying = st == LT_DYING,
	    .dm_gone = dm_gone, .gen = gen, .config = config };
	int rc;

	if ((rc = store_write(store_fd, &r)) != 0) {
		snprintf(why, whysz, "writing dom%u.json: %s", d->domid,
		    strerror(-rc));
		log_warnx("store: domid=%u: %s", d->domid, why);
	}
	return rc;
}

int
dom_create(uint32_t domid, json_t *config, uint64_t *gen, char *why,
    size_t whysz)
{
	struct dom *d;
	int rc;

	if (domid > DOMID_MAX)
		return fail(-EINVAL, why, whysz, "bad domid %u", domid);
	if ((d = doms[domid]) != NULL)
		return d->state == LT_ACTIVE ?
		    fail(-EEXIST, why, whysz, "domid %u exists", domid) :
		    fail(-EBUSY, why, whysz, "domid %u is being destroyed "
		    "(or its store file is corrupt)", domid);
	/* seed 002 (found by lockd/model/locks.pml): a qmp operation of the
	 * destroyed incarnation still holding the slow lock could otherwise
	 * reach the new QEMU */
	if (lt_is_held(ltab, domid, LOCK_SLOW))
		return fail(-EBUSY, why, whysz, "domid %u: the slow lock of its "
		    "destroyed incarnation is still held", domid);
	if ((d = dom_new(domid)) == NULL)
		return fail(-ENOMEM, why, whysz, "domid %u: no memory", domid);
	if ((rc = dom_persist(d, LT_ACTIVE, 0, 1, config, why, whysz)) != 0) {
		dom_free(d);
		return rc;
	}
	d->state = LT_ACTIVE;
	d->gen = *gen = 1;
	d->config = json_incref(config);
	lt_domain_set(ltab, domid, LT_ACTIVE, 0);
	log_info("domid=%u created", domid);
	return 0;
}

/* BROKEN: move the corrupt file aside, then it is a tombstone whose QEMU
 * may still run (dm_gone 0). */
static int
dom_begin_broken(struct dom *d, char *why, size_t whysz)
{
	int rc;

	if ((rc = store_quarantine(store_fd, d->domid)) != 0 && rc != -ENOENT)
		return fail(rc, why, whysz, "domid %u: cannot move the corrupt "
		    "store file aside", d->domid);
	log_warnx("store: domid=%u: corrupt file kept as dom%u.json.corrupt",
	    d->domid, d->domid);
	return 0;
}

int
dom_destroy_begin(uint32_t domid, uint32_t flags, uint64_t now, char *why,
    size_t whysz)
{
	struct dom *d;
	int dm_gone, rc, fresh = 0;

	if (domid > DOMID_MAX)
		return fail(-EINVAL, why, whysz, "bad domid %u", domid);
	if ((d = doms[domid]) == NULL) {
		/* tombstone: no JSON, so (invariant) no QEMU either */
		if ((d = dom_new(domid)) == NULL)
			return -ENOMEM;
		fresh = 1;
		flags |= LOCK_DESTROY_NO_DM;
	}
	if (d->state == LT_BROKEN && (rc = dom_begin_broken(d, why, whysz)))
		return rc;
	dm_gone = d->dm_gone || (flags & LOCK_DESTROY_NO_DM);
	if ((rc = dom_persist(d, LT_DYING, dm_gone, d->gen ? d->gen : 1,
	    d->config, why, whysz)) != 0) {
		if (fresh)
			dom_free(d);
		return rc;
	}
	if (d->state != LT_DYING)
		log_info("domid=%u destroy begun%s", domid,
		    fresh ? " (tombstone)" : "");
	d->state = LT_DYING;
	d->dm_gone = dm_gone;
	if (d->gen == 0)
		d->gen = 1;
	lt_domain_set(ltab, domid, LT_DYING, now);
	return 0;
}

/*
 * DM_GONE and DESTROY_FINISH need a domain whose destroy has begun and
 * whose fast lock is drained: returns it, or NULL with -errno in *rc and
 * the reason in why.
 */
static struct dom *
dying_drained(uint32_t domid, int *rc, char *why, size_t whysz)
{
	struct dom *d = dom_get(domid);

	if (d == NULL)
		*rc = fail(-ESRCH, why, whysz, "domid %u does not exist",
		    domid);
	else if (d->state != LT_DYING)
		*rc = fail(-EINVAL, why, whysz, "domid %u: destroy not begun",
		    domid);
	else if (lt_is_held(ltab, domid, LOCK_FAST))
		*rc = fail(-EBUSY, why, whysz, "domid %u: the fast lock is "
		    "still held (destroy drain not complete)", domid);
	else
		return d;
	return NULL;
}

int
dom_dm_gone(uint32_t domid, char *why, size_t whysz)
{
	struct dom *d;
	int rc;

	if ((d = dying_drained(domid, &rc, why, whysz)) == NULL)
		return rc;
	if (d->dm_gone)
		return 0;
	if ((rc = dom_persist(d, LT_DYING, 1, d->gen, d->config, why, whysz)))
		return rc;
	d->dm_gone = 1;
	log_info("domid=%u device model confirmed gone", domid);
	return 0;
}

int
dom_destroy_finish(uint32_t domid, uint64_t now, char *why, size_t whysz)
{
	struct dom *d;
	int rc;

	if ((d = dying_drained(domid, &rc, why, whysz)) == NULL)
		return rc;
	if (!d->dm_gone)
		return fail(-EBUSY, why, whysz, "domid %u: device model not "
		    "confirmed gone (DM_GONE) — JSON kept", domid);
	if ((rc = store_remove(store_fd, domid)) != 0 && rc != -ENOENT)
		return fail(rc, why, whysz, "domid %u: cannot remove the store "
		    "file", domid);
	dom_free(d);
	lt_domain_set(ltab, domid, LT_ABSENT, now);
	log_info("domid=%u destroyed, JSON removed", domid);
	return 0;
}

int
dom_config_get(uint32_t domid, const json_t **config, uint64_t *gen,
    char *why, size_t whysz)
{
	const struct dom *d = dom_lookup(domid);

	if (d == NULL || d->config == NULL)
		return fail(-ESRCH, why, whysz, "domid %u has no config",
		    domid);
	*config = d->config;
	*gen = d->gen;
	return 0;
}

int
dom_config_put(uint32_t domid, json_t *config, uint64_t expect_gen,
    uint64_t *newgen, char *why, size_t whysz)
{
	struct dom *d = dom_get(domid);
	int rc;

	if (d == NULL || d->config == NULL)
		return fail(-ESRCH, why, whysz, "domid %u has no config",
		    domid);
	if (expect_gen != 0 && expect_gen != d->gen) {
		snprintf(why, whysz, "domid %u: generation is %llu, not %llu",
		    domid, (unsigned long long)d->gen,
		    (unsigned long long)expect_gen);
		return -ESTALE;
	}
	if ((rc = dom_persist(d, d->state, d->dm_gone, d->gen + 1, config,
	    why, whysz)) != 0)
		return rc;
	json_decref(d->config);
	d->config = config;
	*newgen = ++d->gen;
	return 0;
}
