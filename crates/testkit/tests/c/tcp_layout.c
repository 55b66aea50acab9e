/* Compile-time check of include/tcpEvent.h against the original
 * tcpEvent/common.h layout (offsets from the original header, x86-64). */
#include <stddef.h>
#include "tcpEvent.h"

_Static_assert(sizeof(struct tcp_event_t) == 430, "sizeof(struct tcp_event_t)");
_Static_assert(offsetof(struct tcp_event_t, EventTime) == 0, "EventTime");
_Static_assert(offsetof(struct tcp_event_t, pid) == 8, "pid");
_Static_assert(offsetof(struct tcp_event_t, UserId) == 12, "UserId");
_Static_assert(offsetof(struct tcp_event_t, rx_b) == 16, "rx_b");
_Static_assert(offsetof(struct tcp_event_t, tx_b) == 24, "tx_b");
_Static_assert(offsetof(struct tcp_event_t, tcpi_segs_out) == 32, "tcpi_segs_out");
_Static_assert(offsetof(struct tcp_event_t, tcpi_segs_in) == 36, "tcpi_segs_in");
_Static_assert(offsetof(struct tcp_event_t, family) == 40, "family");
_Static_assert(offsetof(struct tcp_event_t, SPT) == 42, "SPT");
_Static_assert(offsetof(struct tcp_event_t, DPT) == 44, "DPT");
_Static_assert(offsetof(struct tcp_event_t, task) == 46, "task");
_Static_assert(offsetof(struct tcp_event_t, SADDR) == 174, "SADDR");
_Static_assert(offsetof(struct tcp_event_t, DADDR) == 302, "DADDR");
_Static_assert(sizeof(((struct tcp_event_t *)0)->task) == 128, "task size");
_Static_assert(sizeof(((struct tcp_event_t *)0)->SADDR) == 128, "SADDR size");
_Static_assert(sizeof(((struct tcp_event_t *)0)->DADDR) == 128, "DADDR size");

_Static_assert(sizeof(struct event_interceptor_stats) == 132, "sizeof(struct event_interceptor_stats)");
_Static_assert(offsetof(struct event_interceptor_stats, status) == 80, "stats status");
_Static_assert(offsetof(struct event_interceptor_stats, attach_path) == 84, "stats attach_path");

/* The extended event: naturally aligned, fields only appended (these
 * offsets are what older callers rely on). */
_Static_assert(_Alignof(struct tcp_event_ex_t) == 8, "tcp_event_ex_t is not packed");
_Static_assert(offsetof(struct tcp_event_ex_t, size) == 0, "ex size");
_Static_assert(offsetof(struct tcp_event_ex_t, kind) == 4, "ex kind");
_Static_assert(offsetof(struct tcp_event_ex_t, EventTime) == 8, "ex EventTime");
_Static_assert(offsetof(struct tcp_event_ex_t, task) == 56, "ex task");
_Static_assert(offsetof(struct tcp_event_ex_t, SADDR) == 72, "ex SADDR");
_Static_assert(offsetof(struct tcp_event_ex_t, saddr_raw) == 168, "ex saddr_raw");
_Static_assert(offsetof(struct tcp_event_ex_t, srtt_us) == 200, "ex srtt_us");
_Static_assert(offsetof(struct tcp_event_ex_t, bytes_sent) == 232, "ex bytes_sent");
_Static_assert(offsetof(struct tcp_event_ex_t, error) == 264, "ex error");
_Static_assert(offsetof(struct tcp_event_ex_t, cookie) == 280, "ex cookie");
_Static_assert(sizeof(struct tcp_event_ex_t) == 288, "sizeof(struct tcp_event_ex_t)");

/* The prototypes are the ones monitors call through dlsym. */
static void (*const add_probe)(const char *) = AddProbe;
static struct tcp_event_t (*const dequeue)(void) = DequeuePerfEvent;
static unsigned (*const get_status)(void) = getStatus;
static void (*const do_cleanup)(void) = cleanup;

int main(void)
{
    return add_probe && dequeue && get_status && do_cleanup ? 0 : 1;
}
