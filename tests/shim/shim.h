/*
 * libxenshim: a fake hypervisor under which the real, unmodified xenstored
 * (and any other libxenctrl user) runs without Xen.  See tests/world/README.md.
 *
 * State shared by every process of one world lives in DIR/hypervisor, a
 * file of one 32-bit word per domain (mapped MAP_SHARED), so a domain that
 * the control channel in xenstored's process shuts down is seen shut down by
 * xc_domain_getinfo() in any other process running under the shim.
 */
#ifndef XENSHIM_H
#define XENSHIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define SHIM_MAX_DOMS     0x7ff0u	/* DOMID_FIRST_RESERVED */
#define SHIM_MAX_PORTS    8192u
#define SHIM_PAGE         4096u

/* Bits of a domain's word in DIR/hypervisor. */
#define DOMW_EXISTS       0x001u
#define DOMW_DYING        0x002u
#define DOMW_SHUTDOWN     0x004u
#define DOMW_HVM          0x010u	/* XEN_DOMINF_hvm_guest */
#define DOMW_REASON_SHIFT 8u
#define DOMW_REASON_MASK  0xffu
#define DOMW_PAUSE_SHIFT  16u		/* toolstack pause count (Xen: 255 max) */
#define DOMW_PAUSE_MASK   0xffu

/* hyp.c */
extern _Atomic uint32_t *shim_doms;	/* SHIM_MAX_DOMS words, or NULL */
const char *shim_dir(void);
int shim_state_map(void);
bool shim_is_xenstored(void);

/* evtchn.c: the xenstored-side event channel device. */
void shim_evtchn_raise(uint32_t port);
uint64_t shim_virq_raise(void);
int shim_virq_wait(uint64_t seq, int timeout_ms);

/* gnttab.c: per-domain ring page for guests (xenstored process only). */
void *shim_ring_get(unsigned int domid, bool create);
void shim_ring_drop(unsigned int domid);

/* guest.c: DIR/dom<N>.sock multiplexers (xenstored process only). */
int shim_guest_start(unsigned int domid, uint32_t local_port);
void shim_guest_notify(unsigned int domid);
void shim_guest_stop(unsigned int domid);
int shim_port_domid(uint32_t port);

/* control.c */
void shim_control_start(void);
int shim_domain_destroy(unsigned int domid);	/* xenstored process only */
int shim_control_call(const char *line);	/* any process: 0 or -errno */

#endif
