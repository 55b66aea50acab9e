/* SPDX-License-Identifier: MIT */
/*
 * The per-call accounting of a UDP send or receive, included twice by
 * udp_event.bpf.c: with direct loads for BTF-typed socket pointers (tp_btf,
 * fexit) and with CO-RE probe reads (raw_tp, tracepoint, kretprobe).
 *
 * The includer defines OP_HANDLER (the function's name) and:
 *   SK_READ(sk, field)            a struct sock field
 *   SK_READ_INTO(dst, sk, field)  copies a struct sock field into *dst
 *   SK_KERN_SOCK(sk)              the sk_kern_sock bit
 *   INET_SPORT(sk)                inet_sk(sk)->inet_sport
 */

/*
 * Accounts `bytes` moved by one call on `sk` (kind: UDP_RECORD_SEND or
 * UDP_RECORD_RECV) in the calling process's context, then emits a record
 * (or, coalescing, marks the socket pending).
 */
static __always_inline void OP_HANDLER(void *ctx, struct sock *sk, long bytes, int kind)
{
	struct udp_socket_state *state;
	struct udp_peer peer = {};
	__u64 key = (__u64)sk;
	__u64 now;
	__u16 family;

	if (!sk || SK_READ(sk, sk_protocol) != IPPROTO_UDP)
		return;
	family = SK_READ(sk, __sk_common.skc_family);
	if (!is_inet_family(family))
		return;
	/* The peer a cgroup hook saw in this same call, if any; consumed
	 * whether or not the call moved data. */
	take_peer(&peer);
	if (bytes <= 0)
		return;

	state = bpf_map_lookup_elem(&udp_sockets, &key);
	if (!state) {
		struct udp_socket_state fresh = {};

		/* Kernel sockets never pass cgroup sock_release: their state
		 * could not be removed. */
		if (SK_KERN_SOCK(sk))
			return;
		count_update_failure(bpf_map_update_elem(&udp_sockets, &key, &fresh, BPF_NOEXIST));
		state = bpf_map_lookup_elem(&udp_sockets, &key);
		if (!state)
			return;
	}
	if (kind == UDP_RECORD_SEND) {
		__sync_fetch_and_add(&state->tx_bytes, bytes);
		__sync_fetch_and_add(&state->tx_packets, 1);
	} else {
		__sync_fetch_and_add(&state->rx_bytes, bytes);
		__sync_fetch_and_add(&state->rx_packets, 1);
	}

	now = bpf_ktime_get_boot_ns();
	state->last_op_ns = now;
	owner_from_current(&state->owner);
	state->family = family;
	/* Read after the call: an unbound socket has its port by now. */
	state->sport = bpf_ntohs(INET_SPORT(sk));
	if (family == AF_INET) {
		SK_READ_INTO((__u32 *)state->saddr, sk, __sk_common.skc_rcv_saddr);
	} else {
		SK_READ_INTO(&state->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	}
	if (peer.sk == key) {
		/* An address given with this call (sendto, or recvfrom asking for
		 * the source): the peer of this datagram. */
		set_peer(state, &peer);
	} else if (SK_READ(sk, __sk_common.skc_dport)) {
		/* Connected: the peer is the socket's. */
		state->dport = bpf_ntohs(SK_READ(sk, __sk_common.skc_dport));
		if (family == AF_INET) {
			__builtin_memset(state->daddr, 0, sizeof(state->daddr));
			SK_READ_INTO((__u32 *)state->daddr, sk, __sk_common.skc_daddr);
		} else {
			SK_READ_INTO(&state->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		}
	} else {
		/* Unconnected and no address asked for (recv()/read()): the
		 * kernel never computed the source; say so rather than guess. */
		state->dport = 0;
		__builtin_memset(state->daddr, 0, sizeof(state->daddr));
	}
	report(ctx, state, kind, now);
}
