/*
 * The seed-002 invariant for a domain that xl manages: its JSON is libxl's
 * libxl_domain_config (lockd's LIST marks it "toolstack": "libxl").
 *
 *   INV_XENSTORE vbd/vbd3/qdisk devid -> disks[*] whose vdev is that devid
 *   INV_XENSTORE vif devid            -> nics[*].devid
 *   INV_XENSTORE console devid 0      -> always (libxl's implicit console)
 *   INV_XENSTORE other kinds          -> the libxl array of that kind
 *   INV_QMP      dm                   -> c_info.type is "hvm"
 *   INV_QMP      cdrom id (devid)     -> disks[*] is_cdrom, that devid
 *   INV_QMP      disk id (devid)      -> disks[*] not a cdrom, that devid
 */
#include <string.h>

#include <jansson.h>

#include "invariant.h"
#include "parse.h"

#define XVD_MAJOR	202
#define SD_MAJOR	8
#define HDAB_MAJOR	3
#define HDCD_MAJOR	22
#define EXT_DEVID	(1u << 28)	/* libxl's extended numbering */
#define VDEV_MAX_DISK	(1u << 20)

struct kindmap {
	const char	*kind;
	const char	*array;
};

static const struct kindmap kinds[] = {
	{ "vbd", "disks" }, { "vbd3", "disks" }, { "qdisk", "disks" },
	{ "vif", "nics" }, { "vkbd", "vkbs" }, { "vfb", "vfbs" },
	{ "console", "consoles" }, { "vtpm", "vtpms" }, { "9pfs", "p9s" },
	{ "vusb", "usbctrls" }, { "qusb", "usbctrls" },
	{ "pvcalls", "pvcallsifs" }, { "vdispl", "vdispls" },
	{ "vsnd", "vsnds" },
};

/* Bijective base 26: "a" 0, "z" 25, "aa" 26.  Returns the letters used. */
static size_t
disk_letters(const char *s, uint32_t *disk)
{
	size_t i;
	uint32_t d = 0;

	for (i = 0; s[i] >= 'a' && s[i] <= 'z'; i++) {
		if (d > VDEV_MAX_DISK)
			return 0;
		d = d * 26 + (uint32_t)(s[i] - 'a' + 1);
	}
	*disk = d - 1;
	return i;
}

/* Optional partition number after the disk letters. */
static int
partition(const char *s, uint32_t *p)
{
	*p = 0;
	return *s == '\0' ? 0 : parse_u32(s, 255, p);
}

static int
vdev_xvd(const char *s, uint32_t *devid)
{
	uint32_t disk, p;
	size_t n = disk_letters(s, &disk);

	if (n == 0 || partition(s + n, &p) == -1)
		return -1;
	if (disk < 16 && p < 16)
		*devid = (XVD_MAJOR << 8) | (disk << 4) | p;
	else
		*devid = EXT_DEVID | (disk << 8) | p;
	return 0;
}

static int
vdev_hd(const char *s, uint32_t *devid)
{
	uint32_t disk, p;
	size_t n = disk_letters(s, &disk);

	if (n != 1 || disk > 3 || partition(s + n, &p) == -1 || p > 63)
		return -1;
	*devid = ((disk < 2 ? HDAB_MAJOR : HDCD_MAJOR) << 8) |
	    ((disk & 1) << 6) | p;
	return 0;
}

static int
vdev_sd(const char *s, uint32_t *devid)
{
	uint32_t disk, p;
	size_t n = disk_letters(s, &disk);

	if (n == 0 || disk > 15 || partition(s + n, &p) == -1 || p > 15)
		return -1;
	*devid = (SD_MAJOR << 8) | (disk << 4) | p;
	return 0;
}

/* libxl__device_disk_dev_number: "51712", "xvda", "hdc", "sdb1", "d0p1". */
int
inv_vdev_devid(const char *vdev, uint32_t *devid)
{
	char num[16];
	const char *p;
	uint32_t d, part;

	if (parse_u32(vdev, UINT32_MAX, devid) == 0)
		return 0;
	if (strncmp(vdev, "xvd", 3) == 0)
		return vdev_xvd(vdev + 3, devid);
	if (strncmp(vdev, "hd", 2) == 0)
		return vdev_hd(vdev + 2, devid);
	if (strncmp(vdev, "sd", 2) == 0)
		return vdev_sd(vdev + 2, devid);
	if (vdev[0] != 'd' || (p = strchr(vdev, 'p')) == NULL ||
	    (size_t)(p - vdev - 1) >= sizeof(num))
		return -1;
	memcpy(num, vdev + 1, (size_t)(p - vdev - 1));
	num[p - vdev - 1] = '\0';
	if (parse_u32(num, VDEV_MAX_DISK, &d) == -1 ||
	    parse_u32(p + 1, 255, &part) == -1)
		return -1;
	*devid = EXT_DEVID | (d << 8) | part;
	return 0;
}

/* Bijective base 26 letters of disk (0 "a", 26 "aa"). */
static void
letters(uint32_t disk, char *buf, size_t sz)
{
	char tmp[8];
	size_t n = 0, i;

	disk++;
	while (disk > 0 && n < sizeof(tmp)) {
		disk--;
		tmp[n++] = (char)('a' + disk % 26);
		disk /= 26;
	}
	for (i = 0; i < n && i + 1 < sz; i++)
		buf[i] = tmp[n - 1 - i];
	buf[i < sz ? i : sz - 1] = '\0';
}

int
inv_devid_vdev(uint32_t devid, char *buf, size_t sz)
{
	char l[8];
	uint32_t disk, part;

	if ((devid >> 8) == XVD_MAJOR) {
		disk = (devid >> 4) & 0xf;
		part = devid & 0xf;
	} else if (devid & EXT_DEVID) {
		disk = (devid & ~EXT_DEVID) >> 8;
		part = devid & 0xff;
	} else
		return -1;
	letters(disk, l, sizeof(l));
	return xsnprintf(buf, sz, part ? "xvd%s%u" : "xvd%s", l, part) == -1 ?
	    -1 : 0;
}

/* The devid of one entry of a libxl device array. */
static int
entry_devid(json_t *e, uint32_t *devid)
{
	json_t *v = json_object_get(e, "devid");

	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) <= UINT32_MAX) {
		*devid = (uint32_t)json_integer_value(v);
		return 0;
	}
	v = json_object_get(e, "vdev");
	return json_is_string(v) ? inv_vdev_devid(json_string_value(v),
	    devid) : -1;
}

/* Entry of array whose devid is id; cdrom: -1 any, 0 not, 1 is_cdrom. */
static json_t *
find_dev(json_t *arr, const char *id, int cdrom)
{
	uint32_t want, devid;
	json_t *e;
	size_t i;

	if (parse_u32(id, UINT32_MAX, &want) == -1)
		return NULL;
	json_array_foreach(arr, i, e) {
		int is_cd = json_is_true(json_object_get(e, "is_cdrom")) ||
		    json_integer_value(json_object_get(e, "is_cdrom")) == 1;

		if (entry_devid(e, &devid) == 0 && devid == want &&
		    (cdrom == -1 || cdrom == is_cd))
			return e;
	}
	return NULL;
}

static const char *
array_of(const char *kind)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return kinds[i].array;
	return NULL;
}

static const char *
qmp_missing(json_t *cfg, const struct inv_item *it)
{
	json_t *t = json_object_get(json_object_get(cfg, "c_info"), "type");

	if (strcmp(it->kind, "dm") == 0)
		return json_is_string(t) && strcmp(json_string_value(t),
		    "hvm") == 0 ? NULL : "device model runs but libxl's JSON "
		    "is not an HVM guest's";
	if (strcmp(it->kind, "cdrom") == 0 || strcmp(it->kind, "disk") == 0)
		return find_dev(json_object_get(cfg, "disks"), it->id,
		    strcmp(it->kind, "cdrom") == 0) ? NULL :
		    "qmp thing without an entry in libxl's disks";
	return "qmp thing of a kind libxl's JSON has no place for";
}

const char *
inv_libxl_missing(json_t *cfg, const struct inv_item *it)
{
	const char *arr;

	if (it->src == INV_QMP)
		return qmp_missing(cfg, it);
	if (strcmp(it->kind, "console") == 0 && strcmp(it->id, "0") == 0)
		return NULL;
	if ((arr = array_of(it->kind)) == NULL)
		return "xenstore device of a kind libxl's JSON has no place for";
	return find_dev(json_object_get(cfg, arr), it->id, -1) ? NULL :
	    "xenstore device without an entry in libxl's JSON";
}
