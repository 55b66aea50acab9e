/* SPDX-License-Identifier: MIT */
/*
 * The inet_sock_set_state handler and the record it sends, included twice by
 * tcp_event.bpf.c:
 *
 *   - for tp_btf (and the iter/tcp snapshot), with direct loads: the socket
 *     is a BTF-typed pointer and plain loads cost a fraction of
 *     bpf_probe_read_kernel() calls (measured: ~2,300 fewer instructions per
 *     connection, see README "Overhead");
 *   - for raw_tp and the tracepoint, with CO-RE probe reads.
 *
 * The includer defines STATE_HANDLER and FILL_RECORD (the functions' names)
 * and:
 *   SK_READ(sk, field)            a struct sock field
 *   SK_READ_INTO(dst, sk, field)  copies a struct sock field into *dst
 *   TCP_SOCK(sk)                  the tcp_sock, or NULL if sk is not TCP
 *   TP_READ(tp, field)            a struct tcp_sock field
 */

/* Fills a record of `kind` for a TCP socket: counters, addresses, ports,
 * owner. The family is already in the record. */
static __always_inline void FILL_RECORD(struct tcp_close_record *record, struct sock *sk, struct tcp_sock *tp,
					__u64 key, __u8 kind)
{
	struct socket_owner *owner;

	record->kind = kind;
	record->boot_ns = bpf_ktime_get_boot_ns();
	record->bytes_received = TP_READ(tp, bytes_received);
	record->bytes_acked = TP_READ(tp, bytes_acked);
	record->data_segs_out = TP_READ(tp, data_segs_out);
	record->data_segs_in = TP_READ(tp, data_segs_in);
	/* skc_num is already 0 at close for sockets that never called bind():
	 * inet_put_port() ran first. inet_sport keeps the port. */
	record->sport = bpf_ntohs(TP_READ(tp, inet_conn.icsk_inet.inet_sport));
	record->dport = bpf_ntohs(SK_READ(sk, __sk_common.skc_dport));
	if (record->family == AF_INET) {
		SK_READ_INTO((__u32 *)record->saddr, sk, __sk_common.skc_rcv_saddr);
		SK_READ_INTO((__u32 *)record->daddr, sk, __sk_common.skc_daddr);
	} else {
		SK_READ_INTO(&record->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		SK_READ_INTO(&record->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}

	owner = bpf_map_lookup_elem(&tcp_owners, &key);
	if (owner) {
		record->pid = owner->pid;
		record->uid = owner->uid;
		__builtin_memcpy(record->comm, owner->comm, sizeof(record->comm));
		record->owner_known = 1;
	} else {
		/* No process context seen: keep the socket's uid, never guess a pid. */
		record->uid = SK_READ(sk, sk_uid.val);
		count(COUNTER_OWNER_UNKNOWN);
	}
}

static __always_inline int STATE_HANDLER(void *ctx, struct sock *sk, int oldstate, int newstate)
{
	struct tcp_close_record record = {};
	__u64 key = (__u64)sk;
	struct tcp_sock *tp;

	/* Half the transitions of a connection need nothing: decide on the
	 * states (free) before reading the socket (not free). */
	switch (newstate) {
	case TCP_SYN_SENT:	/* connect() */
	case TCP_FIN_WAIT1:	/* close() or shutdown() first */
	case TCP_LAST_ACK:	/* close() or shutdown() after the peer */
		if (SK_READ(sk, sk_protocol) == IPPROTO_TCP && is_inet_family(SK_READ(sk, __sk_common.skc_family)))
			remember_current_owner_of(sk, newstate);
		return 0;
	case TCP_CLOSE:
		break;
	default:
		return 0;
	}
	tp = TCP_SOCK(sk);
	if (!tp)
		return 0;
	record.family = SK_READ(sk, __sk_common.skc_family);
	if (!is_inet_family(record.family))
		return 0;
	/* A listener closing is not a connection, and neither is a child
	 * socket that never got past SYN_RECV (the loser of a race between two
	 * CPUs completing the same handshake: zero bytes, no process; seen
	 * on 5.10 by the kernel matrix). */
	if (oldstate != TCP_LISTEN && oldstate != TCP_SYN_RECV) {
		FILL_RECORD(&record, sk, tp, key, TCP_RECORD_CLOSE);
		emit_record(ctx, &record, sizeof(record));
	}
	bpf_map_delete_elem(&tcp_owners, &key);
	bpf_map_delete_elem(&tcp_snapshots, &key);
	return 0;
}
