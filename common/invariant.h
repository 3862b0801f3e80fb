/*
 * The seed-002 invariant, checkable:
 *
 *   Nothing may exist in the primary config without a corresponding entry
 *   in the domain's JSON config.
 *
 * Primary config: xenstore backend devices (ordinary devices) and QEMU (the
 * device model itself and its "qmp things": CD-ROM media, hot-plugged
 * disks).  The JSON side is lockd's whole-store snapshot (MSG_LOCK_LIST
 * reply: {"domains":[{"domid","state","generation","dm_gone","config"}]}).
 *
 * Config schema (docs/LOCKD.md):
 *   {"devices": {"<xenstore kind>": [{"devid": N, ...}, ...], ...},
 *    "dm":      {...}                       (present while QEMU may run),
 *    "qmp":     {"<thing kind>": [{"id": "<qmp id>", ...}, ...], ...}}
 *
 * Item matching:
 *   INV_XENSTORE (domid, kind, id=devid) -> config.devices[kind][*].devid
 *   INV_QMP      (domid, "dm", any)      -> config.dm is an object
 *   INV_QMP      (domid, kind, id)       -> config.qmp[kind][*].id == id
 */
#ifndef DEVSEP_INVARIANT_H
#define DEVSEP_INVARIANT_H

#include <stddef.h>
#include <stdint.h>

struct xs_handle;

enum inv_source { INV_XENSTORE = 0, INV_QMP = 1 };

struct inv_item {
	uint32_t	 domid;
	enum inv_source	 src;
	char		 kind[16];
	char		 id[64];	/* devid in decimal, or the qmp id */
};

typedef void (*inv_report_fn)(void *arg, const struct inv_item *,
    const char *why);

/*
 * Reports every item without a JSON entry.  Returns the number of
 * violations, or -1 when store_json is not a LIST document (err set).
 */
int	inv_check(const char *store_json, const struct inv_item *items,
	    size_t n, inv_report_fn, void *arg, char *err, size_t errsz);

/*
 * A domain that xl manages (LIST entry "toolstack": "libxl"): its config
 * is libxl's JSON; common/inv_libxl.c has the matching table.
 * inv_libxl_missing: NULL when cfg describes the item, else why not.
 * inv_vdev_devid: libxl's vdev name ("xvda", "hdc", "sdb1", "d0p1",
 * "51712") to the xenstore devid; 0 or -1.
 */
struct json_t;
const char *inv_libxl_missing(struct json_t *cfg, const struct inv_item *);
int	inv_vdev_devid(const char *vdev, uint32_t *devid);
/* The reverse for xvd devids ("xvdb" for 51728); 0 or -1 (not xvd). */
int	inv_devid_vdev(uint32_t devid, char *buf, size_t sz);

/* "DOMID xs KIND DEVID" or "DOMID qmp KIND ID" (tests, devsepctl). */
int	inv_item_parse(const char *line, struct inv_item *);
void	inv_item_format(const struct inv_item *, char *buf, size_t sz);

/*
 * Every backend device below /local/domain/<bdomid>/backend/<kind>/<domid>/
 * <devid> (bounded: INV_MAX_ITEMS; names checked with the strict parsers).
 * *items is malloc'ed.  Returns 0, or -errno.
 */
#define INV_MAX_ITEMS	65536
int	inv_items_from_xenstore(struct xs_handle *, uint32_t bdomid,
	    struct inv_item **items, size_t *n);

#endif
