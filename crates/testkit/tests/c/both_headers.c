/* Both headers in one translation unit, as a monitor using both libraries
 * through dlopen() includes them. */
#define EVENT_INTERCEPTOR_DLOPEN_ONLY
#include "tcpEvent.h"
#ifdef __cplusplus
#define _Static_assert static_assert /* this file is also compiled as C++ */
#endif
#include "udpEvent.h"

_Static_assert(sizeof(struct tcp_event_t) == 430, "tcp_event_t");
_Static_assert(sizeof(struct udp_event_t) == 190, "udp_event_t");

static tcpEvent_AddProbe_fn tcp_add_probe;
static udpEvent_AddProbe_fn udp_add_probe;
static tcpEvent_DequeuePerfEvent_fn tcp_dequeue;
static udpEvent_DequeuePerfEvent_fn udp_dequeue;

int main(void)
{
    return tcp_add_probe || udp_add_probe || tcp_dequeue || udp_dequeue;
}
