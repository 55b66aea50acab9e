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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct socket_owner);
} tcp_owners SEC(".maps");

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

/* Records the current task as the owner; call only from process context. */
static __always_inline void remember_current_owner(struct sock *sk)
{
	struct socket_owner owner = {};
	int state;

	if (!is_tcp_socket(sk))
		return;
	state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state == TCP_CLOSE || state == TCP_LISTEN)
		return;
	owner_from_current(&owner);
	store_owner(sk, &owner, BPF_ANY);
}

static __always_inline void emit_close(void *ctx, struct sock *sk, __u64 key)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	struct inet_sock *inet = (struct inet_sock *)sk;
	struct tcp_close_record record = {};
	struct socket_owner *owner;

	record.boot_ns = bpf_ktime_get_boot_ns();
	record.bytes_received = BPF_CORE_READ(tp, bytes_received);
	record.bytes_acked = BPF_CORE_READ(tp, bytes_acked);
	record.data_segs_out = BPF_CORE_READ(tp, data_segs_out);
	record.data_segs_in = BPF_CORE_READ(tp, data_segs_in);
	record.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	/* skc_num is already 0 here for sockets that never called bind():
	 * inet_put_port() ran first. inet_sport keeps the port. */
	record.sport = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
	record.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (record.family == AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)record.saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)record.daddr, sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&record.saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&record.daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}

	owner = bpf_map_lookup_elem(&tcp_owners, &key);
	if (owner) {
		record.pid = owner->pid;
		record.uid = owner->uid;
		__builtin_memcpy(record.comm, owner->comm, sizeof(record.comm));
		record.owner_known = 1;
	} else {
		/* No process context seen: keep the socket's uid, never guess a pid. */
		record.uid = BPF_CORE_READ(sk, sk_uid.val);
		count(COUNTER_OWNER_UNKNOWN);
	}
	emit_record(ctx, &record, sizeof(record));
}

static __always_inline int on_state_change(void *ctx, struct sock *sk, int oldstate, int newstate)
{
	__u64 key = (__u64)sk;

	if (!is_tcp_socket(sk))
		return 0;
	switch (newstate) {
	case TCP_SYN_SENT:	/* connect() */
	case TCP_FIN_WAIT1:	/* close() or shutdown() first */
	case TCP_LAST_ACK:	/* close() or shutdown() after the peer */
		remember_current_owner(sk);
		return 0;
	case TCP_CLOSE:
		break;
	default:
		return 0;
	}
	/* A listener closing is not a connection. */
	if (oldstate != TCP_LISTEN)
		emit_close(ctx, sk, key);
	bpf_map_delete_elem(&tcp_owners, &key);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	return on_state_change(ctx, (struct sock *)sk, oldstate, newstate);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(tcp_state_raw, const struct sock *sk, const int oldstate, const int newstate)
{
	return on_state_change(ctx, (struct sock *)sk, oldstate, newstate);
}

SEC("tracepoint/sock/inet_sock_set_state")
int tcp_state_tp(struct trace_event_raw_inet_sock_set_state *args)
{
	if (args->protocol != IPPROTO_TCP)
		return 0;
	return on_state_change(args, (struct sock *)args->skaddr, args->oldstate, args->newstate);
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
	remember_current_owner(sk);
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
