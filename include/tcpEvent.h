/* tcpEvent.h: generated from the Rust definitions in crates/tcp and crates/tcp-event (libtcpEvent.so). Do not edit;
 * regenerate with `./run.sh headers`. */
#ifndef TCPEVENT_H
#define TCPEVENT_H

#include <stddef.h>
#include <stdint.h>

/*
 * libtcpEvent.so: one event per TCP connection reaching TCP_CLOSE, and
 * live-connection snapshots of established and closing connections whose
 * counters changed, every EBPF_INTERCEPTOR_TCP_SNAPSHOT_SECS seconds (default 6, 0: none).
 * A snapshot has task[127] == 1 (tcpEvent_IsSnapshot); a close has 0.
 * Drop-in for the original BCC-based library: same functions, same packed
 * 430-byte struct tcp_event_t. Monitors usually dlopen() the library from
 * /opt/RealTimeKql/lib and dlsym() these names; the tcpEvent_* functions
 * are additions the original did not have.
 *
 * Extended events (tcpEvent_DequeueEx, struct tcp_event_ex_t): RTT,
 * retransmits, all segments, bytes sent, role, lifetime, connect time,
 * error, cgroup, network namespace and cookie, and failed connects as
 * their own kind; both kinds of dequeue take from the same queue.
 *
 * In-kernel filter (tcpEvent_SetFilter, or EBPF_INTERCEPTOR_TCP_FILTER at AddProbe,
 * which wins): comma-separated terms pid=N,
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
 * Attach paths (EBPF_INTERCEPTOR_TCP_ATTACH, tcpEvent_ProbeAttachPath), best first:
 * fentry: tp_btf/inet_sock_set_state, fexit/inet_csk_accept
 * kprobe: tp_btf/inet_sock_set_state, kretprobe/inet_csk_accept
 * tp_btf: tp_btf/inet_sock_set_state, syscalls:sys_exit_accept{,4}
 * raw_tp: raw_tp/inet_sock_set_state, syscalls:sys_exit_accept{,4}
 * tracepoint: tracepoint sock:inet_sock_set_state, syscalls:sys_exit_accept{,4}
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
/* tcp_event_ex_t.kind: the connection reached TCP_CLOSE. */
#define TCP_EVENT_CLOSE 1
/* tcp_event_ex_t.kind: a live connection whose counters changed. */
#define TCP_EVENT_SNAPSHOT 2
/* tcp_event_ex_t.kind: closed without ever reaching ESTABLISHED. */
#define TCP_EVENT_FAILED_CONNECT 3
/* tcp_event_ex_t.role: opened before AddProbe, or while the filter excluded it. */
#define TCP_ROLE_UNKNOWN 0
/* tcp_event_ex_t.role: connect(). */
#define TCP_ROLE_ACTIVE 1
/* tcp_event_ex_t.role: accepted. */
#define TCP_ROLE_PASSIVE 2

#pragma pack(push, 1)

/*
 * One TCP connection that reached TCP_CLOSE (IPv4 or IPv6), with the
 * process that owned the socket and the connection's totals.
 * Layout identical to the original tcpEvent/common.h (packed, 430 bytes).
 */
struct tcp_event_t {
    /* Unix-epoch nanoseconds of the close (CLOCK_REALTIME, ns precision). */
    uint64_t EventTime; /* offset 0 */
    /* Owning process id (the tgid); 0 if no owner was ever seen. */
    uint32_t pid; /* offset 8 */
    /* Owning process's uid (the socket's uid if no owner was seen). */
    uint32_t UserId; /* offset 12 */
    /* tcp_sock bytes_received: payload bytes received, plus 1 if a FIN was received. */
    uint64_t rx_b; /* offset 16 */
    /* tcp_sock bytes_acked: payload bytes the peer acknowledged, plus 1 each for an acked SYN and FIN. */
    uint64_t tx_b; /* offset 24 */
    /* tcp_sock data_segs_out: segments sent that carried data. */
    uint32_t tcpi_segs_out; /* offset 32 */
    /* tcp_sock data_segs_in: segments received that carried data. */
    uint32_t tcpi_segs_in; /* offset 36 */
    /* AF_INET (2) or AF_INET6 (10): the socket's own family. */
    uint16_t family; /* offset 40 */
    /* Local port, host byte order. */
    uint16_t SPT; /* offset 42 */
    /* Remote port, host byte order. */
    uint16_t DPT; /* offset 44 */
    /* Owner's command name (comm, at most 15 characters), NUL-terminated. task[127] is 1 in a live-connection snapshot and 0 in a close event (see tcpEvent_IsSnapshot). */
    char task[128]; /* offset 46 */
    /* Local address as inet_ntop text; ::ffff:a.b.c.d for IPv4 on a dual-stack socket. */
    char SADDR[128]; /* offset 174 */
    /* Remote address as inet_ntop text. */
    char DADDR[128]; /* offset 302 */
}; /* 430 bytes */

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
 * Additive: one TCP event with everything the library knows of it,
 * naturally aligned (not packed). Read with tcpEvent_DequeueEx. Fields
 * are only ever appended: `size` says how many bytes were filled.
 * Every field of struct tcp_event_t is here with the same meaning
 * (task without the snapshot mark: see `kind`).
 */
struct tcp_event_ex_t {
    /* Bytes the library filled (at most the size the caller passed). */
    uint32_t size; /* offset 0 */
    /* TCP_EVENT_CLOSE, TCP_EVENT_SNAPSHOT or TCP_EVENT_FAILED_CONNECT (a socket that closed without ever reaching ESTABLISHED). */
    uint32_t kind; /* offset 4 */
    /* Unix-epoch nanoseconds of the close (of the snapshot pass). */
    uint64_t EventTime; /* offset 8 */
    /* Owning process id (the tgid); 0 if no owner was ever seen. */
    uint32_t pid; /* offset 16 */
    /* Owning process's uid (the socket's uid if no owner was seen). */
    uint32_t UserId; /* offset 20 */
    /* tcp_sock bytes_received: payload bytes received, plus 1 if a FIN was received. */
    uint64_t rx_b; /* offset 24 */
    /* tcp_sock bytes_acked: payload bytes the peer acknowledged, plus 1 each for an acked SYN and FIN. */
    uint64_t tx_b; /* offset 32 */
    /* tcp_sock data_segs_out: segments sent that carried data. */
    uint32_t tcpi_segs_out; /* offset 40 */
    /* tcp_sock data_segs_in: segments received that carried data. */
    uint32_t tcpi_segs_in; /* offset 44 */
    /* AF_INET (2) or AF_INET6 (10): the socket's own family. */
    uint16_t family; /* offset 48 */
    /* Local port, host byte order. */
    uint16_t SPT; /* offset 50 */
    /* Remote port, host byte order. */
    uint16_t DPT; /* offset 52 */
    /* Zero. */
    uint16_t reserved; /* offset 54 */
    /* Owner's command name (comm), NUL-terminated. */
    char task[16]; /* offset 56 */
    /* Local address as inet_ntop text. */
    char SADDR[48]; /* offset 72 */
    /* Remote address as inet_ntop text. */
    char DADDR[48]; /* offset 120 */
    /* Local address, network byte order; IPv4 in the first 4 bytes. */
    uint8_t saddr_raw[16]; /* offset 168 */
    /* Remote address, network byte order; IPv4 in the first 4 bytes. */
    uint8_t daddr_raw[16]; /* offset 184 */
    /* Smoothed round-trip time, microseconds (tcpi_rtt). */
    uint32_t srtt_us; /* offset 200 */
    /* Round-trip time variation, microseconds (tcpi_rttvar). */
    uint32_t rttvar_us; /* offset 204 */
    /* Lowest round-trip time seen, microseconds (tcpi_min_rtt). */
    uint32_t min_rtt_us; /* offset 208 */
    /* Segments retransmitted over the connection's life (tcpi_total_retrans). */
    uint32_t total_retrans; /* offset 212 */
    /* Data packets lost over the connection's life, retransmits included (tcp_sock lost; on kernels before 4.19, lost_out: those lost now). */
    uint32_t lost; /* offset 216 */
    /* All segments sent (tcpi_segs_out), not only those with data. */
    uint32_t segs_out; /* offset 220 */
    /* All segments received (tcpi_segs_in). */
    uint32_t segs_in; /* offset 224 */
    /* TCP_ROLE_ACTIVE (connect), TCP_ROLE_PASSIVE (accept) or TCP_ROLE_UNKNOWN (opened before AddProbe, or while the filter excluded it). */
    uint32_t role; /* offset 228 */
    /* Payload bytes sent, retransmits included (tcpi_bytes_sent). */
    uint64_t bytes_sent; /* offset 232 */
    /* Payload bytes retransmitted (tcpi_bytes_retrans). */
    uint64_t bytes_retrans; /* offset 240 */
    /* Nanoseconds from the socket's first sighting to this event: SYN_SENT for active opens, the handshake's completion (SYN_RECV to ESTABLISHED) for passive ones, the start-up pass for connections opened before AddProbe, the first owner point (connect, accept, close, exit) after a filter change for connections opened while the filter excluded them; 0 when the socket was never seen before. */
    uint64_t duration_ns; /* offset 248 */
    /* Active opens: nanoseconds from SYN_SENT to ESTABLISHED; else 0. */
    uint64_t connect_ns; /* offset 256 */
    /* The socket's error (sk_err) at close as a positive errno, e.g. ECONNREFUSED, ETIMEDOUT, ECONNRESET, EHOSTUNREACH; 0 if none. */
    int32_t error; /* offset 264 */
    /* The socket's network namespace inode (as /proc/PID/ns/net). */
    uint32_t netns_ino; /* offset 268 */
    /* The owner's cgroup v2 id, taken when the owner was recorded (the inode of its directory under the cgroup2 mount); 0 if unknown. */
    uint64_t cgroup_id; /* offset 272 */
    /* The socket cookie: the same on a connection's snapshots and its close (the kernel's where the attach path can read it, 5.12+ with tp_btf or fentry; else a key the library assigns at the first sighting); 0 when the socket was never seen before. */
    uint64_t cookie; /* offset 280 */
}; /* 288 bytes */

#ifndef EVENT_INTERCEPTOR_DLOPEN_ONLY

/*
 * Starts tracing on a background thread and returns at once, like the
 * original. `bpf_program` (the BCC source existing monitors pass, or
 * NULL) is copied before returning and not compiled: the built-in CO-RE
 * program yields the same events. Does nothing while already started;
 * after cleanup() it starts afresh. Failures print one line on stderr
 * and leave getStatus() at 0.
 */
void AddProbe(const char *bpf_program);

/*
 * The original's blocking setup: starts like AddProbe, then blocks until
 * cleanup() and returns 0; returns non-zero at once if setup fails.
 */
int32_t setupBPF(const char *bpf_program);

/*
 * Blocks until an event is available and returns it. After cleanup()
 * (also for a consumer already blocked here) it returns a zeroed event
 * at once. Several threads may call it; each event goes to one of them.
 */
struct tcp_event_t DequeuePerfEvent(void);

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
int32_t tcpEvent_DequeueTimeout(struct tcp_event_t *event, uint32_t timeout_ms);

/*
 * Additive: waits up to timeout_ms for an event, like the timed
 * dequeue, and writes it as the extended event: at most `size` bytes
 * (the caller's sizeof; a caller built against an older, shorter struct
 * keeps working), with event->size set to the bytes written. Both kinds
 * of dequeue take from the same queue: each event goes to one caller.
 * Returns the timed dequeue's codes; with 0 or -1 the struct is zeroed
 * (size 0 too); -2 for NULL or a size below 8.
 */
int32_t tcpEvent_DequeueEx(struct tcp_event_ex_t *event, size_t size, uint32_t timeout_ms);

/*
 * Additive: sets the in-kernel filter (see the grammar above; NULL or ""
 * means everything) for this session, at once, and later ones. Returns
 * 0, or -1 with the reason, naming the offending term, in the last
 * error (nothing changes then). The environment variable, if set, wins
 * at AddProbe.
 */
int32_t tcpEvent_SetFilter(const char *spec);

/*
 * Additive: fills *stats with the current session's counters (see
 * struct event_interceptor_stats). Returns 0, or -1 for NULL.
 */
int32_t tcpEvent_GetStats(struct event_interceptor_stats *stats);

/*
 * Additive: copies the last error message (empty if none) into buffer,
 * NUL-terminated and truncated to size. Returns the message's length.
 */
size_t tcpEvent_GetLastError(char *buffer, size_t size);

/*
 * Additive: the kind of the last error: EVENT_INTERCEPTOR_NO_ERROR (0),
 * EVENT_INTERCEPTOR_ERROR_PERMISSION (1, missing privilege),
 * EVENT_INTERCEPTOR_ERROR_INVALID_ARGUMENT (2, a bad variable or filter),
 * EVENT_INTERCEPTOR_ERROR_UNSUPPORTED (3, the kernel lacks what every
 * attach path needs) or EVENT_INTERCEPTOR_ERROR_OTHER (4).
 */
int32_t tcpEvent_GetLastErrorKind(void);

/*
 * Additive: loads and attaches attach path `path` and detaches it again,
 * without touching a running session. Returns 1 if the kernel supports
 * it, 0 if not, -1 if it could not be probed (unknown path, no
 * privilege); the reason goes into `reason` (size bytes, may be NULL).
 */
int32_t tcpEvent_ProbeAttachPath(const char *path, char *reason, size_t size);

/*
 * Additive: 1 if *event is a live-connection snapshot, 0 if it is a
 * close event (or NULL). The rule, usable without this call: task[127]
 * is 1 in snapshots and 0 in close events (comm never reaches it).
 */
int32_t tcpEvent_IsSnapshot(const struct tcp_event_t *event);

/* Pointer types for dlsym(), one per function above. */
typedef void (*tcpEvent_AddProbe_fn)(const char *bpf_program);
typedef int32_t (*tcpEvent_setupBPF_fn)(const char *bpf_program);
typedef struct tcp_event_t (*tcpEvent_DequeuePerfEvent_fn)(void);
typedef uint32_t (*tcpEvent_getStatus_fn)(void);
typedef void (*tcpEvent_cleanup_fn)(void);
typedef int32_t (*tcpEvent_DequeueTimeout_fn)(struct tcp_event_t *event, uint32_t timeout_ms);
typedef int32_t (*tcpEvent_DequeueEx_fn)(struct tcp_event_ex_t *event, size_t size, uint32_t timeout_ms);
typedef int32_t (*tcpEvent_SetFilter_fn)(const char *spec);
typedef int32_t (*tcpEvent_GetStats_fn)(struct event_interceptor_stats *stats);
typedef size_t (*tcpEvent_GetLastError_fn)(char *buffer, size_t size);
typedef int32_t (*tcpEvent_GetLastErrorKind_fn)(void);
typedef int32_t (*tcpEvent_ProbeAttachPath_fn)(const char *path, char *reason, size_t size);
typedef int32_t (*tcpEvent_IsSnapshot_fn)(const struct tcp_event_t *event);

#ifdef __cplusplus
}
#endif

#endif /* TCPEVENT_H */
