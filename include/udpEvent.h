/* udpEvent.h: generated from the Rust definitions in crates/udp and crates/udp-event (libudpEvent.so). Do not edit;
 * regenerate with `./run.sh headers`. */
#ifndef UDPEVENT_H
#define UDPEVENT_H

#include <stddef.h>
#include <stdint.h>

/*
 * libudpEvent.so: per-socket UDP totals, an event per send or receive call
 * that moves data and one when the socket closes.
 * Drop-in for the original BCC-based library: same functions, same packed
 * 190-byte struct udp_event_t. Monitors usually dlopen() the library from
 * /opt/RealTimeKql/lib and dlsym() these names; the udpEvent_* functions
 * are additions the original did not have.
 *
 * EBPF_INTERCEPTOR_UDP_COALESCE_MS=N (read at AddProbe): at most one event per socket
 * per N ms, plus the close event, with the same cumulative meanings.
 *
 * Extended events (udpEvent_DequeueEx, struct udp_event_ex_t): the kind
 * of call, raw addresses, cgroup, network namespace, cookie and the
 * socket's receive drops; both kinds of dequeue take from the same queue.
 *
 * In-kernel filter (udpEvent_SetFilter, or EBPF_INTERCEPTOR_UDP_FILTER at AddProbe,
 * which wins), checked per call, so a socket's totals count the calls
 * the filter let through: comma-separated terms pid=N,
 * uid=N,
 * comm=NAME,
 * port=N (either end),
 * lport=N,
 * rport=N,
 * family=4|6,
 * addr=CIDR (either end),
 * netns=INODE|/proc/PID/ns/net,
 * cgroup=/sys/fs/cgroup/PATH (that cgroup and its descendants); terms with the same key OR,
 * different keys AND; empty: everything.
 *
 * Attach paths (EBPF_INTERCEPTOR_UDP_ATTACH, udpEvent_ProbeAttachPath), best first:
 * tp_btf: tp_btf/sock_send_length, sock_recv_length (6.3+)
 * fentry: fexit/udp_sendmsg, udpv6_sendmsg, udp_recvmsg, udpv6_recvmsg
 * kprobe: kprobe+kretprobe/udp_sendmsg, udpv6_sendmsg, udp_recvmsg, udpv6_recvmsg
 * raw_tp: raw_tp/sock_send_length, sock_recv_length (6.3+)
 * tracepoint: tracepoint sock:sock_send_length, sock:sock_recv_length (6.3+)
 */

#ifdef __cplusplus
extern "C" {
#endif

/* *_DequeueTimeout, *_DequeueEx: an event was written. */
#define EVENT_INTERCEPTOR_EVENT 1
/* *_DequeueTimeout, *_DequeueEx: the timeout passed; the event is zeroed. */
#define EVENT_INTERCEPTOR_TIMED_OUT 0
/* *_DequeueTimeout, *_DequeueEx: cleanup() ran before or during the wait; the event is zeroed. */
#define EVENT_INTERCEPTOR_CLEANED_UP (-1)
/* *_DequeueTimeout, *_DequeueEx: the event pointer was NULL (or the size too small). */
#define EVENT_INTERCEPTOR_INVALID_ARGUMENT (-2)
/* *_GetLastErrorKind: no error. */
#define EVENT_INTERCEPTOR_NO_ERROR 0
/* *_GetLastErrorKind: missing privilege (the message names the capabilities). */
#define EVENT_INTERCEPTOR_ERROR_PERMISSION 1
/* *_GetLastErrorKind: a bad environment variable or filter spec. */
#define EVENT_INTERCEPTOR_ERROR_INVALID_ARGUMENT 2
/* *_GetLastErrorKind: the kernel lacks what every attach path needs. */
#define EVENT_INTERCEPTOR_ERROR_UNSUPPORTED 3
/* *_GetLastErrorKind: any other failure. */
#define EVENT_INTERCEPTOR_ERROR_OTHER 4
/* udp_event_ex_t.kind: a send call moved data. */
#define UDP_EVENT_SEND 1
/* udp_event_ex_t.kind: a receive call moved data. */
#define UDP_EVENT_RECEIVE 2
/* udp_event_ex_t.kind: the socket was closed; final totals. */
#define UDP_EVENT_CLOSE 3

#pragma pack(push, 1)

/*
 * A UDP socket's totals after a send or receive call that moved data, or
 * at its close. Layout identical to the original udpEvent/common.h
 * (packed, 190 bytes; a mirror without the pragma is 200 bytes and reads
 * every field after family at the wrong offset).
 */
struct udp_event_t {
    /* AF_INET (2) or AF_INET6 (10): the socket's own family. */
    uint16_t family; /* offset 0 */
    /* The process doing the call (closing, for the close event): its tgid. */
    uint32_t pid; /* offset 2 */
    /* That process's uid. */
    uint32_t UserId; /* offset 6 */
    /* Unix-epoch nanoseconds of the call (of the close). */
    uint64_t EventTime; /* offset 10 */
    /* Local port, host byte order (the real port once autobound). */
    uint16_t SPT; /* offset 18 */
    /* Peer port, host byte order; 0 when the peer is unknown. */
    uint16_t DPT; /* offset 20 */
    /* The process's command name (comm), NUL-terminated. */
    char task[16]; /* offset 22 */
    /* Payload bytes delivered to the application by this socket so far. */
    uint64_t rx_b; /* offset 38 */
    /* Payload bytes sent by this socket so far (successful sends only). */
    uint64_t tx_b; /* offset 46 */
    /* Datagrams delivered to the application so far. */
    uint32_t rxPkts; /* offset 54 */
    /* Datagrams sent so far. */
    uint32_t txPkts; /* offset 58 */
    /* Local address as inet_ntop text (0.0.0.0 or :: when bound to any). */
    char SADDR[64]; /* offset 62 */
    /* Peer: the connected peer, else the destination of this send or the source of this datagram; 0.0.0.0 or :: when unknown. */
    char DADDR[64]; /* offset 126 */
}; /* 190 bytes */

#ifndef EVENT_INTERCEPTOR_STATS_DEFINED
#define EVENT_INTERCEPTOR_STATS_DEFINED
/*
 * Counters of the current session (since the last AddProbe), or of the
 * last one after cleanup(). With the queue drained and the library
 * cleaned up:
 * kernel_emitted == delivered + shed + discarded + malformed
 * and every record the BPF programs produced is kernel_emitted + lost.
 */
struct event_interceptor_stats {
    /* Events returned to consumers. */
    uint64_t delivered; /* offset 0 */
    /* Events waiting in the queue now. */
    uint64_t queued; /* offset 8 */
    /* Oldest events dropped because the 1024-event queue was full. */
    uint64_t shed; /* offset 16 */
    /* Events still queued when cleanup() ran. */
    uint64_t discarded; /* offset 24 */
    /* Records lost between kernel and user space (ring or perf buffer full). */
    uint64_t lost; /* offset 32 */
    /* Kernel-side updates refused because a per-socket map was full. */
    uint64_t map_full; /* offset 40 */
    /* Events whose owning process was never seen (pid 0, empty task). */
    uint64_t owner_unknown; /* offset 48 */
    /* Records the BPF programs handed to the ring or perf buffer. */
    uint64_t kernel_emitted; /* offset 56 */
    /* Records user space could not parse (always 0 unless the BPF object and library disagree). */
    uint64_t malformed; /* offset 64 */
    /* Periodic kernel-side passes that failed (TCP snapshots, UDP coalescing flush). */
    uint64_t periodic_failures; /* offset 72 */
    /* getStatus() at the time of the call. */
    uint32_t status; /* offset 80 */
    /* Attach path in use ("tp_btf", "fentry", ...), empty before setup completes. */
    char attach_path[32]; /* offset 84 */
    /* Transport in use: "ringbuf" or "perf". */
    char transport[16]; /* offset 116 */
}; /* 132 bytes */
#endif

#pragma pack(pop)

/*
 * Additive: one UDP event with everything the library knows of it,
 * naturally aligned (not packed). Read with udpEvent_DequeueEx. Fields
 * are only ever appended: `size` says how many bytes were filled.
 * Every field of struct udp_event_t is here with the same meaning.
 */
struct udp_event_ex_t {
    /* Bytes the library filled (at most the size the caller passed). */
    uint32_t size; /* offset 0 */
    /* UDP_EVENT_SEND, UDP_EVENT_RECEIVE or UDP_EVENT_CLOSE (coalescing: the kind of the last call reported). */
    uint32_t kind; /* offset 4 */
    /* Unix-epoch nanoseconds of the call (of the close). */
    uint64_t EventTime; /* offset 8 */
    /* The process doing the call (closing, for the close event): its tgid. */
    uint32_t pid; /* offset 16 */
    /* That process's uid. */
    uint32_t UserId; /* offset 20 */
    /* Payload bytes delivered to the application by this socket so far. */
    uint64_t rx_b; /* offset 24 */
    /* Payload bytes sent by this socket so far (successful sends only). */
    uint64_t tx_b; /* offset 32 */
    /* Datagrams delivered to the application so far. */
    uint32_t rxPkts; /* offset 40 */
    /* Datagrams sent so far. */
    uint32_t txPkts; /* offset 44 */
    /* AF_INET (2) or AF_INET6 (10): the socket's own family. */
    uint16_t family; /* offset 48 */
    /* Local port, host byte order (the real port once autobound). */
    uint16_t SPT; /* offset 50 */
    /* Peer port, host byte order; 0 when the peer is unknown. */
    uint16_t DPT; /* offset 52 */
    /* Zero. */
    uint16_t reserved; /* offset 54 */
    /* The process's command name (comm), NUL-terminated. */
    char task[16]; /* offset 56 */
    /* Local address as inet_ntop text (0.0.0.0 or :: when bound to any). */
    char SADDR[48]; /* offset 72 */
    /* Peer: the connected peer, else the destination of this send or the source of this datagram; 0.0.0.0 or :: when unknown. */
    char DADDR[48]; /* offset 120 */
    /* Local address, network byte order; IPv4 in the first 4 bytes. */
    uint8_t saddr_raw[16]; /* offset 168 */
    /* Peer address, network byte order; IPv4 in the first 4 bytes. */
    uint8_t daddr_raw[16]; /* offset 184 */
    /* The cgroup v2 id of the process doing the call (closing, for the close event). */
    uint64_t cgroup_id; /* offset 200 */
    /* The socket cookie, the same on all of a socket's events (the kernel's where the attach path can read it, 5.12+ with tp_btf or fentry; else a key the library assigns at the first call). */
    uint64_t cookie; /* offset 208 */
    /* The socket's network namespace inode (as /proc/PID/ns/net). */
    uint32_t netns_ino; /* offset 216 */
    /* Datagrams the kernel dropped for this socket so far, mostly because its receive buffer was full (sk_drops). */
    uint32_t rx_drops; /* offset 220 */
}; /* 224 bytes */

#ifndef EVENT_INTERCEPTOR_DLOPEN_ONLY

/*
 * Starts tracing on a background thread and returns at once, like the
 * original (whose BPF program was built in too). Does nothing while
 * already started; after cleanup() it starts afresh. Failures print one
 * line on stderr and leave getStatus() at 0.
 */
void AddProbe(void);

/*
 * Blocks until an event is available and returns it. After cleanup()
 * (also for a consumer already blocked here) it returns a zeroed event
 * at once. Several threads may call it; each event goes to one of them.
 */
struct udp_event_t DequeuePerfEvent(void);

/*
 * 1 once the hooks are attached and the buffer is open; 0 before, after
 * a failure, and after cleanup().
 */
uint32_t getStatus(void);

/*
 * Detaches everything, drains what the programs emitted last, stops and
 * joins the polling thread, frees the BPF objects and releases blocked
 * consumers. Safe before AddProbe, twice, and right before dlclose():
 * the library is linked with -z nodelete, so dlclose() never unmaps it
 * (a released consumer may still be returning through its code), and
 * a later dlopen() gets the same copy.
 */
void cleanup(void);

#endif /* EVENT_INTERCEPTOR_DLOPEN_ONLY */

/*
 * Additive: waits up to timeout_ms for an event. Returns
 * EVENT_INTERCEPTOR_EVENT (1) with *event filled,
 * EVENT_INTERCEPTOR_TIMED_OUT (0) or EVENT_INTERCEPTOR_CLEANED_UP (-1)
 * with *event zeroed, or EVENT_INTERCEPTOR_INVALID_ARGUMENT (-2) for NULL.
 */
int32_t udpEvent_DequeueTimeout(struct udp_event_t *event, uint32_t timeout_ms);

/*
 * Additive: waits up to timeout_ms for an event, like the timed
 * dequeue, and writes it as the extended event: at most `size` bytes
 * (the caller's sizeof; a caller built against an older, shorter struct
 * keeps working), with event->size set to the bytes written. Both kinds
 * of dequeue take from the same queue: each event goes to one caller.
 * Returns the timed dequeue's codes; with 0 or -1 the struct is zeroed
 * (size 0 too); -2 for NULL or a size below 8.
 */
int32_t udpEvent_DequeueEx(struct udp_event_ex_t *event, size_t size, uint32_t timeout_ms);

/*
 * Additive: sets the in-kernel filter (see the grammar above; NULL or ""
 * means everything) for this session, at once, and later ones. Returns
 * 0, or -1 with the reason, naming the offending term, in the last
 * error (nothing changes then). The environment variable, if set, wins
 * at AddProbe.
 */
int32_t udpEvent_SetFilter(const char *spec);

/*
 * Additive: fills *stats with the current session's counters (see
 * struct event_interceptor_stats). Returns 0, or -1 for NULL.
 */
int32_t udpEvent_GetStats(struct event_interceptor_stats *stats);

/*
 * Additive: copies the last error message (empty if none) into buffer,
 * NUL-terminated and truncated to size. Returns the message's length.
 */
size_t udpEvent_GetLastError(char *buffer, size_t size);

/*
 * Additive: the kind of the last error: EVENT_INTERCEPTOR_NO_ERROR (0),
 * EVENT_INTERCEPTOR_ERROR_PERMISSION (1, missing privilege),
 * EVENT_INTERCEPTOR_ERROR_INVALID_ARGUMENT (2, a bad variable or filter),
 * EVENT_INTERCEPTOR_ERROR_UNSUPPORTED (3, the kernel lacks what every
 * attach path needs) or EVENT_INTERCEPTOR_ERROR_OTHER (4).
 */
int32_t udpEvent_GetLastErrorKind(void);

/*
 * Additive: loads and attaches attach path `path` and detaches it again,
 * without touching a running session. Returns 1 if the kernel supports
 * it, 0 if not, -1 if it could not be probed (unknown path, no
 * privilege); the reason goes into `reason` (size bytes, may be NULL).
 */
int32_t udpEvent_ProbeAttachPath(const char *path, char *reason, size_t size);

/* Pointer types for dlsym(), one per function above. */
typedef void (*udpEvent_AddProbe_fn)(void);
typedef struct udp_event_t (*udpEvent_DequeuePerfEvent_fn)(void);
typedef uint32_t (*udpEvent_getStatus_fn)(void);
typedef void (*udpEvent_cleanup_fn)(void);
typedef int32_t (*udpEvent_DequeueTimeout_fn)(struct udp_event_t *event, uint32_t timeout_ms);
typedef int32_t (*udpEvent_DequeueEx_fn)(struct udp_event_ex_t *event, size_t size, uint32_t timeout_ms);
typedef int32_t (*udpEvent_SetFilter_fn)(const char *spec);
typedef int32_t (*udpEvent_GetStats_fn)(struct event_interceptor_stats *stats);
typedef size_t (*udpEvent_GetLastError_fn)(char *buffer, size_t size);
typedef int32_t (*udpEvent_GetLastErrorKind_fn)(void);
typedef int32_t (*udpEvent_ProbeAttachPath_fn)(const char *path, char *reason, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* UDPEVENT_H */
