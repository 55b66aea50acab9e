/* Compile-time check of include/udpEvent.h against the original
 * udpEvent/common.h layout (#pragma pack(1), offsets on x86-64). */
#include <stddef.h>
#include "udpEvent.h"

_Static_assert(sizeof(struct udp_event_t) == 190, "sizeof(struct udp_event_t)");
_Static_assert(offsetof(struct udp_event_t, family) == 0, "family");
_Static_assert(offsetof(struct udp_event_t, pid) == 2, "pid");
_Static_assert(offsetof(struct udp_event_t, UserId) == 6, "UserId");
_Static_assert(offsetof(struct udp_event_t, EventTime) == 10, "EventTime");
_Static_assert(offsetof(struct udp_event_t, SPT) == 18, "SPT");
_Static_assert(offsetof(struct udp_event_t, DPT) == 20, "DPT");
_Static_assert(offsetof(struct udp_event_t, task) == 22, "task");
_Static_assert(offsetof(struct udp_event_t, rx_b) == 38, "rx_b");
_Static_assert(offsetof(struct udp_event_t, tx_b) == 46, "tx_b");
_Static_assert(offsetof(struct udp_event_t, rxPkts) == 54, "rxPkts");
_Static_assert(offsetof(struct udp_event_t, txPkts) == 58, "txPkts");
_Static_assert(offsetof(struct udp_event_t, SADDR) == 62, "SADDR");
_Static_assert(offsetof(struct udp_event_t, DADDR) == 126, "DADDR");
_Static_assert(sizeof(((struct udp_event_t *)0)->task) == 16, "task size");
_Static_assert(sizeof(((struct udp_event_t *)0)->SADDR) == 64, "SADDR size");
_Static_assert(sizeof(((struct udp_event_t *)0)->DADDR) == 64, "DADDR size");

_Static_assert(sizeof(struct event_interceptor_stats) == 132, "sizeof(struct event_interceptor_stats)");

/* The extended event: naturally aligned, fields only appended. */
_Static_assert(_Alignof(struct udp_event_ex_t) == 8, "udp_event_ex_t is not packed");
_Static_assert(offsetof(struct udp_event_ex_t, kind) == 4, "ex kind");
_Static_assert(offsetof(struct udp_event_ex_t, EventTime) == 8, "ex EventTime");
_Static_assert(offsetof(struct udp_event_ex_t, task) == 56, "ex task");
_Static_assert(offsetof(struct udp_event_ex_t, cgroup_id) == 200, "ex cgroup_id");
_Static_assert(offsetof(struct udp_event_ex_t, rx_drops) == 220, "ex rx_drops");
_Static_assert(sizeof(struct udp_event_ex_t) == 224, "sizeof(struct udp_event_ex_t)");

/* The prototypes are the ones monitors call through dlsym. */
static void (*const add_probe)(void) = AddProbe;
static struct udp_event_t (*const dequeue)(void) = DequeuePerfEvent;
static unsigned (*const get_status)(void) = getStatus;
static void (*const do_cleanup)(void) = cleanup;

int main(void)
{
    return add_probe && dequeue && get_status && do_cleanup ? 0 : 1;
}
