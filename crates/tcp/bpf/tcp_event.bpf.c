// SPDX-License-Identifier: MIT
/*
 * libtcpEvent.so kernel side: one record per TCP connection reaching
 * TCP_CLOSE, attributed to the process that owns the socket.
 *
 * At TCP_CLOSE the current task is often not the owner (softirq, timers, the
 * peer's process on loopback: tcplife's bcc#788), so the owner is recorded
 * whenever the socket passes a process-context point and looked up at close:
 *   - SYN_SENT (connect), FIN_WAIT1 and LAST_ACK (close/shutdown);
 *   - accept, by fexit or kretprobe on inet_csk_accept or the accept syscall
 *     tracepoints, whichever the attach plan uses;
 *   - cgroup sock_release (close() and exit, before tcp_close runs);
 *   - an iter/task_file pass at start-up for connections opened before it.
 *
 * The state hook exists in three forms (tp_btf, raw_tp, tracepoint); user
 * space loads the ones its attach plan names and leaves the rest unloaded.
 */
#include "interceptor.bpf.h"
#include "tcp_event.h"

EXPORT_LAYOUT(struct tcp_close_record, layout_tcp_close_record);
EXPORT_LAYOUT(enum tcp_record_kind, layout_tcp_record_kind);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct socket_owner);
} tcp_owners SEC(".maps");

/* Counters each live connection last reported in a snapshot: unchanged
 * connections are not reported again. Sized like tcp_owners by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct tcp_snapshot_counters);
} tcp_snapshots SEC(".maps");

static __always_inline int is_tcp_socket(struct sock *sk)
{
	if (!sk)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	return is_inet_family(BPF_CORE_READ(sk, __sk_common.skc_family));
}

static __always_inline void store_owner(struct sock *sk, struct socket_owner *owner, __u64 flags)
{
	__u64 key = (__u64)sk;

	count_update_failure(bpf_map_update_elem(&tcp_owners, &key, owner, flags));
}

/* Records the current task as the owner of a TCP socket whose protocol and
 * family the caller has checked; call only from process context. */
static __always_inline void remember_current_owner_of(struct sock *sk, int state)
{
	struct socket_owner owner = {}, *known;
	__u64 key = (__u64)sk;

	if (state == TCP_CLOSE || state == TCP_LISTEN)
		return;
	owner_from_current(&owner);
	/* Most calls confirm what is stored (connect, then close by the same
	 * process): a lookup is much cheaper than rewriting the entry. */
	known = bpf_map_lookup_elem(&tcp_owners, &key);
	if (known && known->pid == owner.pid && known->uid == owner.uid)
		return;
	store_owner(sk, &owner, BPF_ANY);
}

static __always_inline void remember_current_owner(struct sock *sk)
{
	if (is_tcp_socket(sk))
		remember_current_owner_of(sk, BPF_CORE_READ(sk, __sk_common.skc_state));
}

/* Direct loads through BTF-typed pointers (tp_btf, iter/tcp). */
#define STATE_HANDLER on_state_change_btf
#define FILL_RECORD fill_record_btf
#define SK_READ(sk, field) ((sk)->field)
#define SK_READ_INTO(dst, sk, field) __builtin_memcpy((dst), &(sk)->field, sizeof(*(dst)))
#define TCP_SOCK(sk) bpf_skc_to_tcp_sock(sk)
#define TP_READ(tp, field) ((tp)->field)
#include "tcp_state.tmpl.bpf.h"
#undef STATE_HANDLER
#undef FILL_RECORD
#undef SK_READ
#undef SK_READ_INTO
#undef TCP_SOCK
#undef TP_READ

/* CO-RE probe reads (raw_tp, tracepoint: untyped pointers). */
#define STATE_HANDLER on_state_change_probed
#define FILL_RECORD fill_record_probed
#define SK_READ(sk, field) BPF_CORE_READ(sk, field)
#define SK_READ_INTO(dst, sk, field) BPF_CORE_READ_INTO(dst, sk, field)
#define TCP_SOCK(sk) (BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP ? (struct tcp_sock *)(sk) : NULL)
#define TP_READ(tp, field) BPF_CORE_READ(tp, field)
#include "tcp_state.tmpl.bpf.h"

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	return on_state_change_btf(ctx, (struct sock *)sk, oldstate, newstate);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(tcp_state_raw, const struct sock *sk, const int oldstate, const int newstate)
{
	return on_state_change_probed(ctx, (struct sock *)sk, oldstate, newstate);
}

SEC("tracepoint/sock/inet_sock_set_state")
int tcp_state_tp(struct trace_event_raw_inet_sock_set_state *args)
{
	if (args->protocol != IPPROTO_TCP)
		return 0;
	return on_state_change_probed(args, (struct sock *)args->skaddr, args->oldstate, args->newstate);
}

/* Accept, portable form: the new descriptor's socket, in the acceptor's context. */
SEC("tracepoint/syscalls/sys_exit_accept4")
int tcp_accept4_exit(struct trace_event_raw_sys_exit *args)
{
	remember_current_owner(socket_of_fd(args->ret));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tcp_accept_exit(struct trace_event_raw_sys_exit *args)
{
	remember_current_owner(socket_of_fd(args->ret));
	return 0;
}

/* Accept through inet_csk_accept: also covers io_uring and in-kernel accepts.
 * Its prototype lost two arguments in 6.10; user space loads the variant whose
 * argument count matches the kernel's BTF, because fexit reads the return
 * value from the slot after the last argument. */
SEC("fexit/inet_csk_accept")
int BPF_PROG(tcp_accept_fexit4, struct sock *sk, int flags, int *err, bool kern, struct sock *newsk)
{
	remember_current_owner(newsk);
	return 0;
}

SEC("fexit/inet_csk_accept")
int BPF_PROG(tcp_accept_fexit2, struct sock *sk, struct proto_accept_arg *arg, struct sock *newsk)
{
	remember_current_owner(newsk);
	return 0;
}

SEC("kretprobe/inet_csk_accept")
int BPF_KRETPROBE(tcp_accept_kretprobe, struct sock *newsk)
{
	remember_current_owner(newsk);
	return 0;
}

/* Runs in the closing process before tcp_close(), also at process exit and
 * for accepted sockets: covers an RST sent by close() on a socket whose owner
 * was never seen. */
SEC("cgroup/sock_release")
int tcp_sock_release(struct bpf_sock *ctx)
{
	struct sock *sk = (struct sock *)ctx;
	__u64 key = (__u64)sk;
	int state;

	if (ctx->protocol != IPPROTO_TCP || !is_inet_family(ctx->family))
		return 1;
	state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state == TCP_CLOSE || state == TCP_LISTEN) {
		/* Never connected, or already reported: nothing will close later. */
		bpf_map_delete_elem(&tcp_owners, &key);
		return 1;
	}
	remember_current_owner_of(sk, state);
	return 1;
}

/* Start-up pass over every open file: owners of connections that existed
 * before the hooks were attached. Never overwrites a fresher observation. */
SEC("iter/task_file")
int tcp_seed_owners(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	struct task_struct *task = ctx->task;
	struct socket_owner owner = {};
	struct sock *sk;
	int state;

	if (!file || !task)
		return 0;
	sk = socket_of_file(file);
	if (!is_tcp_socket(sk))
		return 0;
	state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state == TCP_CLOSE || state == TCP_LISTEN)
		return 0;
	owner_from_task(&owner, task);
	store_owner(sk, &owner, BPF_NOEXIST);
	return 0;
}

/* Live-connection snapshot, run by user space every snapshot interval: a
 * record for each established or closing connection whose counters changed
 * since it was last reported. Same meanings and owner as the close record. */
SEC("iter/tcp")
int tcp_snapshot(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_close_record record = {};
	struct tcp_snapshot_counters now = {}, *last;
	struct tcp_sock *tp;
	struct sock *sk;
	__u64 key;

	if (!skc)
		return 0;
	/* NULL for request and TIME_WAIT sockets, which are not connections. */
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	switch (skc->skc_state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSE_WAIT:
	case TCP_LAST_ACK:
	case TCP_CLOSING:
		break;
	default:	/* LISTEN, SYN_SENT, SYN_RECV, CLOSE */
		return 0;
	}
	record.family = skc->skc_family;
	if (!is_inet_family(record.family))
		return 0;
	sk = (struct sock *)tp;
	key = (__u64)sk;
	now.bytes_received = tp->bytes_received;
	now.bytes_acked = tp->bytes_acked;
	now.data_segs_out = tp->data_segs_out;
	now.data_segs_in = tp->data_segs_in;
	last = bpf_map_lookup_elem(&tcp_snapshots, &key);
	if (last && last->bytes_received == now.bytes_received && last->bytes_acked == now.bytes_acked &&
	    last->data_segs_out == now.data_segs_out && last->data_segs_in == now.data_segs_in)
		return 0;
	count_update_failure(bpf_map_update_elem(&tcp_snapshots, &key, &now, BPF_ANY));
	fill_record_btf(&record, sk, tp, key, TCP_RECORD_SNAPSHOT);
	emit_record(ctx, &record, sizeof(record));
	return 0;
}
