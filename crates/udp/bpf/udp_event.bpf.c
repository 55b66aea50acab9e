// SPDX-License-Identifier: MIT
/*
 * libudpEvent.so kernel side: per-socket UDP totals, a record per send or
 * receive call that moves data, and a final record when the socket closes.
 *
 * - Accounting, in the calling process's context, after the call (so the
 *   bytes are those really sent or delivered, and an unbound socket has its
 *   port): sock:sock_send_length / sock_recv_length on 6.3+ (tp_btf, raw_tp
 *   or tracepoint), else fexit or kretprobe on udp_sendmsg, udpv6_sendmsg,
 *   udp_recvmsg and udpv6_recvmsg. User space loads one plan's set.
 * - Peers of unconnected sockets: cgroup sendmsg4/6 (the destination of a
 *   sendto) and recvmsg4/6 (the source, when the caller asks for it) run
 *   inside the same call and leave the address for the accounting hook.
 * - Close: cgroup sock_release, in the closing process, for IPv4 and IPv6
 *   alike; the socket's state is removed there.
 * - Coalescing (opt-in): at most one record per socket per interval; a
 *   flush run by user space on that interval reports sockets with calls not
 *   yet reported (a map walker over the sockets left pending, or before 5.13
 *   an iterator over every socket).
 * - The filter (filter.bpf.h) is checked per call, in the caller's context,
 *   before the socket's state is touched: a socket's totals count the calls
 *   the filter let through.
 */
#include "interceptor.bpf.h"
#include "filter.bpf.h"
#include "udp_event.h"

#define MSG_PEEK 2

EXPORT_LAYOUT(struct udp_record, layout_udp_record);
EXPORT_LAYOUT(enum udp_record_kind, layout_udp_record_kind);
EXPORT_LAYOUT(struct udp_peer, layout_udp_peer);

const volatile struct udp_config udp_config = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct udp_socket_state);
} udp_sockets SEC(".maps");

/*
 * A peer a cgroup hook saw, waiting for the accounting hook of the same call
 * (same thread; sk 0: taken). Where cgroup programs may use task storage
 * (udp_config.task_storage_peers), it waits in the thread's own storage:
 * a few loads, and freed with the thread. Elsewhere in a hash map keyed by
 * pid_tgid, entries rewritten in place, never deleted (an LRU update and
 * delete per call cost about half of the tracing time, measured with
 * kernel.bpf_stats_enabled); LRU, so threads that never come back cannot
 * fill it. User space creates only the one in use.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct udp_peer);
} udp_peer_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct udp_peer);
} udp_peers SEC(".maps");

/* kprobe plan: the socket and flags of a call in flight, by thread. */
struct udp_call {
	__u64 sk;
	__u32 flags;
	__u32 reserved;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct udp_call);
} udp_calls SEC(".maps");

/* The calling thread's peer slot (created if `create`), or NULL. */
static __always_inline struct udp_peer *peer_slot(__u64 tid, int create)
{
	if (udp_config.task_storage_peers)
		return bpf_task_storage_get(&udp_peer_slots, bpf_get_current_task_btf(), 0,
					    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	return bpf_map_lookup_elem(&udp_peers, &tid);
}

static __always_inline void take_peer(struct udp_peer *out, __u64 tid)
{
	struct udp_peer *peer = peer_slot(tid, 0);

	if (!peer || !peer->sk)
		return;
	__builtin_memcpy(out, peer, sizeof(*out));
	peer->sk = 0;
}

static __always_inline void set_peer(struct udp_socket_state *state, const struct udp_peer *peer)
{
	state->dport = bpf_ntohs(peer->port);
	__builtin_memset(state->daddr, 0, sizeof(state->daddr));
	if (peer->family == state->family) {
		__builtin_memcpy(state->daddr, peer->addr, sizeof(state->daddr));
	} else if (peer->family == AF_INET) {
		/* An IPv4 peer of a dual-stack socket: reported v4-mapped, as the
		 * kernel and the TCP library report such sockets. */
		state->daddr[10] = 0xff;
		state->daddr[11] = 0xff;
		__builtin_memcpy(&state->daddr[12], peer->addr, 4);
	}
}

/* Every field of a record, from the socket's state. */
static __always_inline void fill_record(struct udp_record *record, const struct udp_socket_state *state, int kind)
{
	record->boot_ns = state->last_op_ns;
	record->tx_bytes = state->tx_bytes;
	record->rx_bytes = state->rx_bytes;
	record->cgroup_id = state->cgroup_id;
	record->cookie = state->cookie;
	record->tx_packets = state->tx_packets;
	record->rx_packets = state->rx_packets;
	record->netns = state->netns;
	record->rx_drops = state->rx_drops;
	record->pid = state->owner.pid;
	record->uid = state->owner.uid;
	record->family = state->family;
	record->sport = state->sport;
	record->dport = state->dport;
	record->kind = kind;
	record->last_op = state->last_op;
	__builtin_memcpy(record->comm, state->owner.comm, sizeof(record->comm));
	__builtin_memcpy(record->saddr, state->saddr, sizeof(record->saddr));
	__builtin_memcpy(record->daddr, state->daddr, sizeof(record->daddr));
}

static __always_inline void emit_state(void *ctx, struct udp_socket_state *state, int kind, __u64 now)
{
	/* interceptor_config is read-only: the verifier sees one branch. */
	if (interceptor_config.use_perf_buffer) {
		struct udp_record record = {};

		fill_record(&record, state, kind);
		emit_record(ctx, &record, sizeof(record));
	} else {
		/* Written in place in the ring: every byte, no padding. */
		struct udp_record *record = reserve_record(sizeof(*record));

		if (record) {
			fill_record(record, state, kind);
			submit_record(record);
		}
	}
	state->last_emit_ns = now;
	state->pending = 0;
}

/*
 * Sockets with calls not yet reported (coalescing, map-walker flush only:
 * udp_config.pending_set). The flush walks these instead of every bucket of
 * udp_sockets, which costs with the map's size, traffic or not (measured
 * idle, 2026-12-03: 1.2 ms a walk at 65,536 sockets, 17.8 ms at 1,048,576,
 * every interval). Sized by user space. A socket that does not fit sets
 * pending_overflow, and the next flush walks every socket; so does every
 * FULL_WALK_EVERY-th flush, which bounds how long a socket can stay pending
 * unseen if a call and a flush race (see report()).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u8);
} udp_pending SEC(".maps");

#define FULL_WALK_EVERY 64

__u32 pending_overflow SEC(".bss");
/* Flushes since the last full walk; only the flush (one thread) touches it. */
__u32 flushes_since_full_walk SEC(".bss");

static __always_inline void note_pending(__u64 key)
{
	__u8 one = 1;
	/* int: see count_update_failure() (not sign-extended on 5.10, 6.1). */
	int err = bpf_map_update_elem(&udp_pending, &key, &one, BPF_NOEXIST);

	if (err && err != -EEXIST)
		pending_overflow = 1;
}

/* A record now, or (coalescing, too soon after the last) later. */
static __always_inline void report(void *ctx, struct udp_socket_state *state, int kind, __u64 now, __u64 key)
{
	__u64 interval = udp_config.coalesce_ns;

	if (interval && now - state->last_emit_ns < interval) {
		__u8 was_pending = state->pending;

		/* The flag before the set: the set's insert locks (a full
		 * barrier), and the flush deletes from the set before it reads
		 * the flag, so it sees this socket one way or the other. */
		state->pending = 1;
		if (udp_config.pending_set && !was_pending)
			note_pending(key);
		return;
	}
	emit_state(ctx, state, kind, now);
}

/* The cookie of a socket behind an untyped pointer: the kernel's, if it was
 * ever asked for, else the library's key. */
static __always_inline __u64 cookie_probed(struct sock *sk)
{
	__u64 cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);

	return cookie ? cookie : library_socket_key();
}

/*
 * The datagrams the kernel dropped for a socket, as sk_drops_read() counts
 * them: since 6.18 UDP sockets count in per-NUMA-node counters
 * (sk->sk_drop_counters, in struct udp_sock) and leave sk_drops at 0.
 */
static __always_inline __u32 drops_btf(struct sock *sk)
{
	if (bpf_core_field_exists(sk->sk_drop_counters)) {
		struct numa_drop_counters *counters = sk->sk_drop_counters;

		if (counters)
			return counters->drops0.counter + counters->drops1.counter;
	}
	return sk->sk_drops.counter;
}

static __always_inline __u32 drops_probed(struct sock *sk)
{
	if (bpf_core_field_exists(sk->sk_drop_counters)) {
		struct numa_drop_counters *counters = BPF_CORE_READ(sk, sk_drop_counters);

		if (counters)
			return BPF_CORE_READ(counters, drops0.counter) + BPF_CORE_READ(counters, drops1.counter);
	}
	return BPF_CORE_READ(sk, sk_drops.counter);
}

/* Whether the current task's comm is `comm`, by two direct loads. */
static __always_inline int same_comm_btf(const char *comm)
{
	const __u64 *now, *was = (const __u64 *)comm;

	if (!CURRENT_TASK_BTF)
		return 0;
	now = (const __u64 *)bpf_get_current_task_btf()->comm;
	return now[0] == was[0] && now[1] == was[1];
}

/* Direct loads through BTF-typed pointers (tp_btf, fexit). */
#define OP_HANDLER udp_op_btf
#define OP_ALLOWED udp_op_allowed_btf
#define COOKIE(sk) (TRACING_SOCKET_COOKIE ? bpf_get_socket_cookie(sk) : cookie_probed(sk))
#define SK_READ(sk, field) ((sk)->field)
#define SK_READ_INTO(dst, sk, field) __builtin_memcpy((dst), &(sk)->field, sizeof(*(dst)))
#define SK_KERN_SOCK(sk) BPF_CORE_READ_BITFIELD(sk, sk_kern_sock)
#define SK_DROPS(sk) drops_btf(sk)
#define SAME_COMM(comm) same_comm_btf(comm)
#include "udp_op.tmpl.bpf.h"
#undef OP_HANDLER
#undef OP_ALLOWED
#undef COOKIE
#undef SK_READ
#undef SK_READ_INTO
#undef SK_KERN_SOCK
#undef SK_DROPS
#undef SAME_COMM

/* CO-RE probe reads (raw_tp, tracepoint, kretprobe: untyped pointers). */
#define OP_HANDLER udp_op_probed
#define OP_ALLOWED udp_op_allowed_probed
#define COOKIE(sk) cookie_probed(sk)
#define SK_READ(sk, field) BPF_CORE_READ(sk, field)
#define SK_READ_INTO(dst, sk, field) BPF_CORE_READ_INTO(dst, sk, field)
#define SK_KERN_SOCK(sk) BPF_CORE_READ_BITFIELD_PROBED(sk, sk_kern_sock)
#define SK_DROPS(sk) drops_probed(sk)
#define SAME_COMM(comm) 0
#include "udp_op.tmpl.bpf.h"

/* ---- accounting, 6.3+: sock:sock_send_length / sock_recv_length ---- */

SEC("tp_btf/sock_send_length")
int BPF_PROG(udp_send_btf, struct sock *sk, int ret, int flags)
{
	FLOOR_RETURN(0);
	udp_op_btf(ctx, sk, ret, UDP_RECORD_SEND);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(udp_recv_btf, struct sock *sk, int ret, int flags)
{
	FLOOR_RETURN(0);
	udp_op_btf(ctx, sk, flags & MSG_PEEK ? 0 : ret, UDP_RECORD_RECV);
	return 0;
}

SEC("raw_tp/sock_send_length")
int BPF_PROG(udp_send_raw, struct sock *sk, int ret, int flags)
{
	FLOOR_RETURN(0);
	udp_op_probed(ctx, sk, ret, UDP_RECORD_SEND);
	return 0;
}

SEC("raw_tp/sock_recv_length")
int BPF_PROG(udp_recv_raw, struct sock *sk, int ret, int flags)
{
	FLOOR_RETURN(0);
	udp_op_probed(ctx, sk, flags & MSG_PEEK ? 0 : ret, UDP_RECORD_RECV);
	return 0;
}

SEC("tracepoint/sock/sock_send_length")
int udp_send_tp(struct trace_event_raw_sock_msg_length *args)
{
	FLOOR_RETURN(0);
	if (args->protocol == IPPROTO_UDP)
		udp_op_probed(args, args->sk, args->ret, UDP_RECORD_SEND);
	return 0;
}

SEC("tracepoint/sock/sock_recv_length")
int udp_recv_tp(struct trace_event_raw_sock_msg_length *args)
{
	FLOOR_RETURN(0);
	if (args->protocol == IPPROTO_UDP)
		udp_op_probed(args, args->sk, args->flags & MSG_PEEK ? 0 : args->ret, UDP_RECORD_RECV);
	return 0;
}

/* ---- accounting, any kernel with BPF trampolines: fexit ---- */

/* A v4-mapped send on an AF_INET6 socket goes udpv6_sendmsg -> udp_sendmsg:
 * counted once, by the udpv6_sendmsg hook. */
SEC("fexit/udp_sendmsg")
int BPF_PROG(udp_sendmsg_fexit, struct sock *sk, struct msghdr *msg, size_t len, int ret)
{
	FLOOR_RETURN(0);
	if (sk->__sk_common.skc_family == AF_INET)
		udp_op_btf(ctx, sk, ret, UDP_RECORD_SEND);
	return 0;
}

SEC("fexit/udpv6_sendmsg")
int BPF_PROG(udp6_sendmsg_fexit, struct sock *sk, struct msghdr *msg, size_t len, int ret)
{
	FLOOR_RETURN(0);
	udp_op_btf(ctx, sk, ret, UDP_RECORD_SEND);
	return 0;
}

/* udp_recvmsg and udpv6_recvmsg lost an argument twice (noblock in 5.19,
 * addr_len in 6.16); fexit finds the return value after the last argument,
 * so user space loads the variant matching the kernel's BTF. */
#define RECV_FEXIT_VARIANTS(func, name)                                                    \
	SEC("fexit/" #func)                                                                \
	int BPF_PROG(name##6, struct sock *sk, struct msghdr *msg, size_t len, int noblock, \
		     int flags, int *addr_len, int ret)                                     \
	{                                                                                  \
		FLOOR_RETURN(0);                                                           \
		udp_op_btf(ctx, sk, flags & MSG_PEEK ? 0 : ret, UDP_RECORD_RECV);          \
		return 0;                                                                  \
	}                                                                                  \
	SEC("fexit/" #func)                                                                \
	int BPF_PROG(name##5, struct sock *sk, struct msghdr *msg, size_t len, int flags,  \
		     int *addr_len, int ret)                                                \
	{                                                                                  \
		FLOOR_RETURN(0);                                                           \
		udp_op_btf(ctx, sk, flags & MSG_PEEK ? 0 : ret, UDP_RECORD_RECV);          \
		return 0;                                                                  \
	}                                                                                  \
	SEC("fexit/" #func)                                                                \
	int BPF_PROG(name##4, struct sock *sk, struct msghdr *msg, size_t len, int flags,  \
		     int ret)                                                               \
	{                                                                                  \
		FLOOR_RETURN(0);                                                           \
		udp_op_btf(ctx, sk, flags & MSG_PEEK ? 0 : ret, UDP_RECORD_RECV);          \
		return 0;                                                                  \
	}

RECV_FEXIT_VARIANTS(udp_recvmsg, udp_recvmsg_fexit)
RECV_FEXIT_VARIANTS(udpv6_recvmsg, udp6_recvmsg_fexit)

/* ---- accounting, kernels with kprobes: entry stashes, return accounts ---- */

static __always_inline void call_begins(struct sock *sk, int flags)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct udp_call call = { .sk = (__u64)sk, .flags = flags };

	bpf_map_update_elem(&udp_calls, &tid, &call, BPF_ANY);
}

static __always_inline void call_returns(void *ctx, long ret, int kind)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct udp_call *call = bpf_map_lookup_elem(&udp_calls, &tid);
	struct sock *sk;
	int flags;

	if (!call)
		return;
	sk = (struct sock *)call->sk;
	flags = call->flags;
	bpf_map_delete_elem(&udp_calls, &tid);
	udp_op_probed(ctx, sk, flags & MSG_PEEK ? 0 : ret, kind);
}

SEC("kprobe/udp_sendmsg")
int BPF_KPROBE(udp_sendmsg_entry, struct sock *sk)
{
	FLOOR_RETURN(0);
	/* Counted by udpv6_sendmsg when it hands a v4-mapped send over. */
	if (BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET)
		call_begins(sk, 0);
	return 0;
}

SEC("kretprobe/udp_sendmsg")
int BPF_KRETPROBE(udp_sendmsg_return, int ret)
{
	FLOOR_RETURN(0);
	call_returns(ctx, ret, UDP_RECORD_SEND);
	return 0;
}

SEC("kprobe/udpv6_sendmsg")
int BPF_KPROBE(udp6_sendmsg_entry, struct sock *sk)
{
	FLOOR_RETURN(0);
	call_begins(sk, 0);
	return 0;
}

SEC("kretprobe/udpv6_sendmsg")
int BPF_KRETPROBE(udp6_sendmsg_return, int ret)
{
	FLOOR_RETURN(0);
	call_returns(ctx, ret, UDP_RECORD_SEND);
	return 0;
}

/* The flags argument moved with the prototype (see the fexit variants). */
#define RECV_KPROBE_VARIANTS(func, name)                                                   \
	SEC("kprobe/" #func)                                                               \
	int BPF_KPROBE(name##6, struct sock *sk, struct msghdr *msg, size_t len, int noblock, \
		       int flags)                                                           \
	{                                                                                  \
		FLOOR_RETURN(0);                                                           \
		call_begins(sk, flags);                                                    \
		return 0;                                                                  \
	}                                                                                  \
	SEC("kprobe/" #func)                                                               \
	int BPF_KPROBE(name##5, struct sock *sk, struct msghdr *msg, size_t len, int flags) \
	{                                                                                  \
		FLOOR_RETURN(0);                                                           \
		call_begins(sk, flags);                                                    \
		return 0;                                                                  \
	}                                                                                  \
	SEC("kretprobe/" #func)                                                            \
	int BPF_KRETPROBE(name##_return, int ret)                                          \
	{                                                                                  \
		FLOOR_RETURN(0);                                                           \
		call_returns(ctx, ret, UDP_RECORD_RECV);                                   \
		return 0;                                                                  \
	}

RECV_KPROBE_VARIANTS(udp_recvmsg, udp_recvmsg_entry)
RECV_KPROBE_VARIANTS(udpv6_recvmsg, udp6_recvmsg_entry)

/* ---- peers: cgroup sock_addr hooks, inside the same send or receive ---- */

static __always_inline int keep_peer(struct bpf_sock_addr *ctx, __u16 family)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct bpf_sock *sk = ctx->sk;
	struct udp_peer peer = {}, *waiting;

	if (ctx->protocol != IPPROTO_UDP || !sk)
		return 1;
	peer.sk = (__u64)sk;
	peer.family = family;
	peer.port = (__u16)ctx->user_port;
	if (family == AF_INET) {
		*(__u32 *)peer.addr = ctx->user_ip4;
	} else {
		*(__u32 *)&peer.addr[0] = ctx->user_ip6[0];
		*(__u32 *)&peer.addr[4] = ctx->user_ip6[1];
		*(__u32 *)&peer.addr[8] = ctx->user_ip6[2];
		*(__u32 *)&peer.addr[12] = ctx->user_ip6[3];
	}
	waiting = peer_slot(tid, 1);
	if (waiting)
		__builtin_memcpy(waiting, &peer, sizeof(peer));
	else if (!udp_config.task_storage_peers)
		bpf_map_update_elem(&udp_peers, &tid, &peer, BPF_ANY);
	/* Never refuse the call: these programs only observe. */
	return 1;
}

SEC("cgroup/sendmsg4")
int udp_sendmsg4(struct bpf_sock_addr *ctx)
{
	FLOOR_RETURN(1);
	return keep_peer(ctx, AF_INET);
}

SEC("cgroup/sendmsg6")
int udp_sendmsg6(struct bpf_sock_addr *ctx)
{
	FLOOR_RETURN(1);
	return keep_peer(ctx, AF_INET6);
}

SEC("cgroup/recvmsg4")
int udp_recvmsg4(struct bpf_sock_addr *ctx)
{
	FLOOR_RETURN(1);
	return keep_peer(ctx, AF_INET);
}

SEC("cgroup/recvmsg6")
int udp_recvmsg6(struct bpf_sock_addr *ctx)
{
	FLOOR_RETURN(1);
	return keep_peer(ctx, AF_INET6);
}

/* ---- close ---- */

/* The filter's verdict on a close: the closing process, and the socket as
 * its last call left it. */
static __always_inline int close_allowed(const struct filter *filter, const struct udp_socket_state *state)
{
	struct filter_facts facts = {
		.netns = state->netns,
		.family = state->family,
		.lport = state->sport,
		.rport = state->dport,
		.lport_known = 1,
	};

	filter_facts_of_current(filter, &facts);
	__builtin_memcpy(facts.laddr, state->saddr, sizeof(facts.laddr));
	__builtin_memcpy(facts.raddr, state->daddr, sizeof(facts.raddr));
	return filter_owner_allows(filter, &facts) && filter_socket_allows(filter, &facts);
}

/* In the closing process (close() or exit), before the socket is freed. */
SEC("cgroup/sock_release")
int udp_sock_release(struct bpf_sock *ctx)
{
	FLOOR_RETURN(1);
	const struct filter *filter;
	struct udp_socket_state *state;
	__u64 key = (__u64)ctx;
	__u64 now;

	if (ctx->protocol != IPPROTO_UDP || !is_inet_family(ctx->family))
		return 1;
	state = bpf_map_lookup_elem(&udp_sockets, &key);
	if (!state)
		return 1;
	filter = active_filter();
	if (!filter || close_allowed(filter, state)) {
		now = bpf_ktime_get_boot_ns();
		state->last_op_ns = now;
		owner_from_current(&state->owner);
		state->cgroup_id = bpf_get_current_cgroup_id();
		state->rx_drops = drops_probed((struct sock *)ctx);
		emit_state(ctx, state, UDP_RECORD_CLOSE, now);
	}
	bpf_map_delete_elem(&udp_sockets, &key);
	return 1;
}

/* ---- coalescing: report sockets with calls not yet reported ---- */

/* Whether a socket has calls not yet reported and its last report is at
 * least one coalescing interval old: the one rule of both flush forms. */
static __always_inline int flush_due(const struct udp_socket_state *state, __u64 now)
{
	return state->pending && now - state->last_emit_ns >= udp_config.coalesce_ns;
}

SEC("iter/bpf_map_elem")
int udp_flush(struct bpf_iter__bpf_map_elem *ctx)
{
	FLOOR_RETURN(0);
	struct udp_socket_state *state = ctx->value;
	__u64 now;

	if (!state)
		return 0;
	now = bpf_ktime_get_boot_ns();
	if (flush_due(state, now))
		emit_state(ctx, state, UDP_RECORD_FLUSH, now);
	return 0;
}

/*
 * The same flush as a program that walks the map itself, run by BPF_PROG_RUN
 * from the polling thread: some kernels refuse map iterators (6.18
 * Firecracker builds load iter/tcp and iter/task but fail iter/bpf_map_elem
 * with EPERM). Used wherever bpf_for_each_map_elem exists (5.13+). A tc
 * program, run on a dummy packet, because its context is one the perf
 * buffer's output accepts (bpf_skb_event_output).
 */
struct flush_walk {
	void *ctx;
	__u64 now;
};

/* One socket of the full walk. One still pending but not due goes into the
 * pending set (it may have missed it). */
static long flush_one(struct bpf_map *map, __u64 *key, struct udp_socket_state *state, struct flush_walk *walk)
{
	if (flush_due(state, walk->now))
		emit_state(walk->ctx, state, UDP_RECORD_FLUSH, walk->now);
	else if (udp_config.pending_set && state->pending)
		note_pending(*key);
	return 0;
}

/* One socket of the pending set: out of the set first, then its flag read
 * (see report()); back in if it is pending but not due yet. */
static long flush_pending_one(struct bpf_map *map, __u64 *key, __u8 *unused, struct flush_walk *walk)
{
	struct udp_socket_state *state;
	__u64 sk = *key;

	bpf_map_delete_elem(&udp_pending, &sk);
	state = bpf_map_lookup_elem(&udp_sockets, &sk);
	if (!state || !state->pending)
		return 0;
	if (flush_due(state, walk->now))
		emit_state(walk->ctx, state, UDP_RECORD_FLUSH, walk->now);
	else
		note_pending(sk);
	return 0;
}

SEC("tc")
int udp_flush_walk(struct __sk_buff *skb)
{
	FLOOR_RETURN(0);
	struct flush_walk walk = {
		.ctx = skb,
		.now = bpf_ktime_get_boot_ns(),
	};

	if (!udp_config.pending_set) {
		bpf_for_each_map_elem(&udp_sockets, flush_one, &walk, 0);
		return 0;
	}
	if (pending_overflow || ++flushes_since_full_walk >= FULL_WALK_EVERY) {
		/* Cleared before the walk: a socket that overflows during it
		 * sets it again for the next one. */
		pending_overflow = 0;
		flushes_since_full_walk = 0;
		bpf_for_each_map_elem(&udp_sockets, flush_one, &walk, 0);
	}
	bpf_for_each_map_elem(&udp_pending, flush_pending_one, &walk, 0);
	return 0;
}
