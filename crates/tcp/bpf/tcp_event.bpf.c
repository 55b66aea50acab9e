// SPDX-License-Identifier: MIT
/*
 * libtcpEvent.so kernel side: one record per TCP connection reaching
 * TCP_CLOSE (and live-connection snapshots), attributed to the process that
 * owns the socket, with its counters, RTT, retransmits, error, lifetime and
 * identity (cgroup, network namespace, cookie).
 *
 * At TCP_CLOSE the current task is often not the owner (softirq, timers, the
 * peer's process on loopback: tcplife's bcc#788), so the owner is recorded
 * whenever the socket passes a process-context point and looked up at close:
 *   - SYN_SENT (connect), FIN_WAIT1 and LAST_ACK (close/shutdown);
 *   - accept, by fexit or kretprobe on inet_csk_accept or the accept syscall
 *     tracepoints, whichever the attach path uses;
 *   - cgroup sock_release (close() and exit, before tcp_close runs);
 *   - an iter/task_file pass at start-up for connections opened before it.
 * What the library knows of a socket lives in tcp_sockets from its first
 * sighting (SYN_SENT, the passive handshake's completion, or the start-up
 * pass) to its close.
 *
 * The filter (filter.bpf.h) is checked before any map update or record: at
 * the owner-recording points with what is known there, and in full at close
 * and in snapshots.
 *
 * The state hook exists in three forms (tp_btf, raw_tp, tracepoint); user
 * space loads the ones its attach path names and leaves the rest unloaded.
 */
#include "interceptor.bpf.h"
#include "filter.bpf.h"
#include "tcp_event.h"

EXPORT_LAYOUT(struct tcp_close_record, layout_tcp_close_record);
EXPORT_LAYOUT(enum tcp_record_kind, layout_tcp_record_kind);
EXPORT_LAYOUT(enum tcp_role, layout_tcp_role);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct tcp_socket_info);
} tcp_sockets SEC(".maps");

/* Counters each live connection last reported in a snapshot: unchanged
 * connections are not reported again. Sized like tcp_sockets by user space. */
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

/* struct local_ports before 6.3: the range as two ints (since: one u32). */
struct local_ports___pair {
	int range[2];
} __attribute__((preserve_access_index));

/* Whether the filter's socket terms let a socket through, through CO-RE
 * reads (any context): the template's form for untyped pointers, defined
 * with the state handler below. */
static __always_inline int socket_allowed_probed(const struct filter *filter, struct sock *sk, int connecting);

/* The cookie of a socket behind an untyped pointer: the kernel's, if it was
 * ever asked for, else the library's key. */
static __always_inline __u64 cookie_probed(struct sock *sk)
{
	__u64 cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);

	return cookie ? cookie : library_socket_key();
}

/* The cookie of a socket behind a BTF-typed pointer. */
#define COOKIE_BTF(sk) (TRACING_SOCKET_COOKIE ? bpf_get_socket_cookie(sk) : cookie_probed(sk))

/*
 * Snapshot records sent for sockets without a tcp_sockets entry (sockets the
 * filter excluded at their first sighting and a later filter let through):
 * while there are none, a close without an entry has no tcp_snapshots entry
 * to delete, and excluded connections cost no delete. Only ever increases.
 */
__u64 snapshots_without_entry SEC(".bss");

/* The current task as an entry's owner, with the filter's verdict on it. */
static __always_inline void set_owner(struct tcp_socket_info *info, __u32 generation, __u8 matches, __u8 role)
{
	owner_from_current(&info->owner);
	info->cgroup_id = bpf_get_current_cgroup_id();
	info->owner_known = 1;
	info->filter_generation = generation;
	info->owner_matches = matches;
	if (info->role == TCP_ROLE_UNKNOWN)
		info->role = role;
}

/*
 * Records the current task as the owner of a TCP socket whose protocol and
 * family the caller has checked (process context only). `socket_checked`:
 * the caller found the filter's socket terms let it through. A socket seen
 * for the first time gets its entry here, with `role` and `cookie` (0: found
 * here), unless the filter excludes it: excluded traffic gets no entry (the
 * issue's "evaluated before any map update"), so a socket first seen while
 * excluded that a later filter lets through is known from that later point
 * on, with role unknown. Most calls confirm what is stored (connect, then
 * close by the same process): a lookup is much cheaper than rewriting the
 * entry.
 */
static __always_inline void record_owner(struct sock *sk, __u8 role, __u64 cookie, int socket_checked)
{
	const struct filter *filter = active_filter();
	struct filter_facts facts = {};
	struct tcp_socket_info *info;
	__u64 key = (__u64)sk;
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u32 generation = filter ? filter->generation : 0;
	__u8 matches = 1;

	info = bpf_map_lookup_elem(&tcp_sockets, &key);
	if (info && info->owner_known && info->owner.pid == pid && info->owner.uid == uid &&
	    info->filter_generation == generation)
		return;
	/* The socket's terms first: they need no task facts. An entry made
	 * under another filter stays (its close decides in full). */
	if (filter && !info && !socket_checked && !socket_allowed_probed(filter, sk, 0))
		return;
	if (filter) {
		filter_facts_of_current(filter, &facts);
		matches = filter_owner_allows(filter, &facts);
		/* Excluded by its owner: no entry (another process may own it
		 * later and be let through). */
		if (!info && !matches)
			return;
	}
	if (!info) {
		/* Written whole, owner included: no lookup after the insert. */
		struct tcp_socket_info fresh = {
			.first_ns = bpf_ktime_get_boot_ns(),
			.cookie = cookie ? cookie : cookie_probed(sk),
			.role = role,
			.filter_generation = generation,
			/* Only a connect() is surely too young for a snapshot pass;
			 * a socket first seen later may have been reported. */
			.snapshotted = role != TCP_ROLE_ACTIVE,
		};
		/* int: see count_update_failure() (not sign-extended on 5.10, 6.1). */
		int err;

		set_owner(&fresh, generation, matches, role);
		err = bpf_map_update_elem(&tcp_sockets, &key, &fresh, BPF_NOEXIST);
		count_update_failure(err);
		if (err != -EEXIST)
			return;
		/* Another CPU inserted it first: record the owner there. */
		info = bpf_map_lookup_elem(&tcp_sockets, &key);
		if (!info)
			return;
	}
	set_owner(info, generation, matches, role);
}

/* The owner of a socket the caller has not checked, from an accept hook. */
static __always_inline void record_accepting_owner(struct sock *sk, __u64 cookie)
{
	if (is_tcp_socket(sk))
		record_owner(sk, TCP_ROLE_PASSIVE, cookie, 0);
}

/*
 * The filter's verdict on a record about to be sent (all its facts are
 * known): the socket's terms from the record, the owner's from the entry
 * (its owner terms as evaluated when the owner was recorded, or, if the
 * filter changed since, again from the stored owner, with the cgroup terms
 * matching the owner's own cgroup exactly).
 */
static __always_inline int record_allowed(const struct filter *filter, const struct tcp_close_record *record,
					  const struct tcp_socket_info *info)
{
	struct filter_facts facts = {
		.pid = record->pid,
		.uid = record->uid,
		.netns = record->netns,
		.family = record->family,
		.lport = record->sport,
		.rport = record->dport,
		.owner_known = record->owner_known,
		.lport_known = 1,
	};

	__builtin_memcpy(facts.comm, record->comm, sizeof(facts.comm));
	__builtin_memcpy(facts.laddr, record->saddr, sizeof(facts.laddr));
	__builtin_memcpy(facts.raddr, record->daddr, sizeof(facts.raddr));
	if (!filter_socket_allows(filter, &facts))
		return 0;
	if (info && info->owner_known && info->filter_generation == filter->generation)
		return info->owner_matches;
	if (filter->keys & FILTER_KEY_CGROUP) {
		facts.cgroup_known = 1;
		facts.cgroup_match = info && filter_has_u64(filter->cgroup, filter->n_cgroup, info->cgroup_id);
	}
	return filter_owner_allows(filter, &facts);
}

/* Direct loads through BTF-typed pointers (tp_btf, iter/tcp). */
#define STATE_HANDLER on_state_change_btf
#define FILL_RECORD fill_record_btf
#define SOCKET_ALLOWED socket_allowed_btf
#define EPHEMERAL_PORTS ephemeral_ports_btf
#define SK_READ(sk, field) ((sk)->field)
#define SK_READ_INTO(dst, sk, field) __builtin_memcpy((dst), &(sk)->field, sizeof(*(dst)))
#define TCP_SOCK(sk) bpf_skc_to_tcp_sock(sk)
#define TCP_SOCK_OF_TCP(sk) bpf_skc_to_tcp_sock(sk)
#define TP_READ(tp, field) ((tp)->field)
#define TP_HAS(tp, field) bpf_core_field_exists((tp)->field)
#define KREAD(ptr, field) ((ptr)->field)
#define COOKIE(sk) COOKIE_BTF(sk)
#define NETNS(sk) ((sk)->__sk_common.skc_net.net->ns.inum)
#include "tcp_state.tmpl.bpf.h"
#undef STATE_HANDLER
#undef FILL_RECORD
#undef SOCKET_ALLOWED
#undef EPHEMERAL_PORTS
#undef SK_READ
#undef SK_READ_INTO
#undef TCP_SOCK
#undef TCP_SOCK_OF_TCP
#undef TP_READ
#undef TP_HAS
#undef KREAD
#undef COOKIE
#undef NETNS

/* CO-RE probe reads (raw_tp, tracepoint: untyped pointers). */
#define STATE_HANDLER on_state_change_probed
#define FILL_RECORD fill_record_probed
#define SOCKET_ALLOWED socket_allowed_probed
#define EPHEMERAL_PORTS ephemeral_ports_probed
#define SK_READ(sk, field) BPF_CORE_READ(sk, field)
#define SK_READ_INTO(dst, sk, field) BPF_CORE_READ_INTO(dst, sk, field)
#define TCP_SOCK(sk) (BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP ? (struct tcp_sock *)(sk) : NULL)
#define TCP_SOCK_OF_TCP(sk) ((struct tcp_sock *)(sk))
#define TP_READ(tp, field) BPF_CORE_READ(tp, field)
#define TP_HAS(tp, field) bpf_core_field_exists((tp)->field)
#define KREAD(ptr, field) BPF_CORE_READ(ptr, field)
#define COOKIE(sk) cookie_probed(sk)
#define NETNS(sk) socket_netns(sk)
#include "tcp_state.tmpl.bpf.h"

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	FLOOR_RETURN(0);
	return on_state_change_btf(ctx, (struct sock *)sk, oldstate, newstate);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(tcp_state_raw, const struct sock *sk, const int oldstate, const int newstate)
{
	FLOOR_RETURN(0);
	return on_state_change_probed(ctx, (struct sock *)sk, oldstate, newstate);
}

SEC("tracepoint/sock/inet_sock_set_state")
int tcp_state_tp(struct trace_event_raw_inet_sock_set_state *args)
{
	FLOOR_RETURN(0);
	if (args->protocol != IPPROTO_TCP)
		return 0;
	return on_state_change_probed(args, (struct sock *)args->skaddr, args->oldstate, args->newstate);
}

/* Accept, portable form: the new descriptor's socket, in the acceptor's context. */
SEC("tracepoint/syscalls/sys_exit_accept4")
int tcp_accept4_exit(struct trace_event_raw_sys_exit *args)
{
	FLOOR_RETURN(0);
	/* Cookie 0: read by record_owner only if it makes the entry. */
	record_accepting_owner(socket_of_socket_fd(args->ret), 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tcp_accept_exit(struct trace_event_raw_sys_exit *args)
{
	FLOOR_RETURN(0);
	/* Cookie 0: read by record_owner only if it makes the entry. */
	record_accepting_owner(socket_of_socket_fd(args->ret), 0);
	return 0;
}

/* Accept through inet_csk_accept: also covers io_uring and in-kernel accepts.
 * Its prototype lost two arguments in 6.10; user space loads the variant whose
 * argument count matches the kernel's BTF, because fexit reads the return
 * value from the slot after the last argument. */
SEC("fexit/inet_csk_accept")
int BPF_PROG(tcp_accept_fexit4, struct sock *sk, int flags, int *err, bool kern, struct sock *newsk)
{
	FLOOR_RETURN(0);
	if (newsk)
		record_accepting_owner(newsk, COOKIE_BTF(newsk));
	return 0;
}

SEC("fexit/inet_csk_accept")
int BPF_PROG(tcp_accept_fexit2, struct sock *sk, struct proto_accept_arg *arg, struct sock *newsk)
{
	FLOOR_RETURN(0);
	if (newsk)
		record_accepting_owner(newsk, COOKIE_BTF(newsk));
	return 0;
}

SEC("kretprobe/inet_csk_accept")
int BPF_KRETPROBE(tcp_accept_kretprobe, struct sock *newsk)
{
	FLOOR_RETURN(0);
	record_accepting_owner(newsk, 0);
	return 0;
}

/* Runs in the closing process before tcp_close(), also at process exit and
 * for accepted sockets: covers an RST sent by close() on a socket whose owner
 * was never seen. */
SEC("cgroup/sock_release")
int tcp_sock_release(struct bpf_sock *ctx)
{
	FLOOR_RETURN(1);
	struct sock *sk = (struct sock *)ctx;
	__u64 key = (__u64)sk;
	int state;

	if (ctx->protocol != IPPROTO_TCP || !is_inet_family(ctx->family))
		return 1;
	state = ctx->state;
	if (state == TCP_CLOSE || state == TCP_LISTEN) {
		/* Never connected, or already reported: nothing will close later.
		 * Usually there is no entry (the close deleted it): a lookup
		 * costs less than a delete, which locks its bucket. */
		if (bpf_map_lookup_elem(&tcp_sockets, &key))
			bpf_map_delete_elem(&tcp_sockets, &key);
		return 1;
	}
	record_owner(sk, TCP_ROLE_UNKNOWN, 0, 0);
	return 1;
}

/* Start-up pass over every open file: owners of connections that existed
 * before the hooks were attached. Never overwrites a fresher observation. */
SEC("iter/task_file")
int tcp_seed_owners(struct bpf_iter__task_file *ctx)
{
	FLOOR_RETURN(0);
	struct file *file = ctx->file;
	struct task_struct *task = ctx->task;
	struct tcp_socket_info info = {};
	struct sock *sk;
	__u64 key;
	int state;

	if (!file || !task)
		return 0;
	sk = socket_of_file(file);
	if (!is_tcp_socket(sk))
		return 0;
	state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state == TCP_CLOSE || state == TCP_LISTEN)
		return 0;
	owner_from_task(&info.owner, task);
	info.owner_known = 1;
	info.cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	info.first_ns = bpf_ktime_get_boot_ns();
	info.cookie = cookie_probed(sk);
	info.role = TCP_ROLE_UNKNOWN;
	info.snapshotted = 1;	/* a snapshot pass may have come first */
	key = (__u64)sk;
	count_update_failure(bpf_map_update_elem(&tcp_sockets, &key, &info, BPF_NOEXIST));
	return 0;
}

/* Live-connection snapshot, run by user space every snapshot interval: a
 * record for each established or closing connection whose counters changed
 * since it was last reported. Same meanings and owner as the close record. */
SEC("iter/tcp")
int tcp_snapshot(struct bpf_iter__tcp *ctx)
{
	FLOOR_RETURN(0);
	struct sock_common *skc = ctx->sk_common;
	struct tcp_close_record record = {};
	struct tcp_snapshot_counters now = {}, *last;
	struct tcp_socket_info *info;
	const struct filter *filter;
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
	filter = active_filter();
	info = bpf_map_lookup_elem(&tcp_sockets, &key);
	if (!fill_record_btf(&record, sk, tp, info, TCP_RECORD_SNAPSHOT, filter))
		return 0;
	if (!info)
		__sync_fetch_and_add(&snapshots_without_entry, 1);
	count_update_failure(bpf_map_update_elem(&tcp_snapshots, &key, &now, BPF_ANY));
	if (info)
		info->snapshotted = 1;
	emit_record(ctx, &record, sizeof(record));
	return 0;
}
