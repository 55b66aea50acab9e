/* SPDX-License-Identifier: MIT */
/*
 * TEMPLATE: the per-call accounting of a UDP send or receive, included twice
 * by udp_event.bpf.c: with direct loads for BTF-typed socket pointers
 * (tp_btf, fexit) and with CO-RE probe reads (raw_tp, tracepoint, kretprobe).
 *
 * The includer defines OP_HANDLER and OP_ALLOWED (the functions' names) and:
 *   SK_READ(sk, field)            a struct sock field
 *   SK_READ_INTO(dst, sk, field)  copies a struct sock field into *dst
 *   SK_KERN_SOCK(sk)              the sk_kern_sock bit
 *   SK_DROPS(sk)                  the socket's drop count, as sk_drops_read()
 *   SAME_COMM(comm)               1 if the current task's comm is comm[16]
 *                                 (0 when that cannot be told cheaply)
 *   COOKIE(sk)                    the socket's cookie, at its first sighting
 *
 * The local port is skc_num, host order: the port the socket is bound to
 * (autobound during the call if it was not), equal to inet_sport whenever
 * either is set, and readable from struct sock without a probe read.
 */

/*
 * The filter's verdict on one call, in the caller's context: the socket with
 * this call's peer (a peer the kernel never computed, a plain recv() on an
 * unconnected socket, matches no peer term), then the caller. Excluded
 * traffic costs this check: the socket's facts (loads, all of them: gating
 * each on the terms that name it multiplied the verifier's paths) decide
 * before the caller's (helper calls, only those the terms name).
 */
static __always_inline int OP_ALLOWED(const struct filter *filter, struct sock *sk, __u16 family,
				      const struct udp_peer *peer, __u64 key)
{
	struct filter_facts facts = {
		.family = family,
		.lport_known = 1,
	};
	facts.lport = SK_READ(sk, __sk_common.skc_num);
	facts.netns = socket_netns(sk);
	READ_LOCAL_ADDR(facts.laddr, sk, family);
	if (peer->sk == key) {
		struct udp_socket_state view = { .family = family };

		set_peer(&view, peer);
		facts.rport = view.dport;
		__builtin_memcpy(facts.raddr, view.daddr, sizeof(facts.raddr));
	} else if (SK_READ(sk, __sk_common.skc_dport)) {
		facts.rport = bpf_ntohs(SK_READ(sk, __sk_common.skc_dport));
		READ_REMOTE_ADDR(facts.raddr, sk, family);
	}
	if (!filter_socket_allows(filter, &facts))
		return 0;
	filter_facts_of_current(filter, &facts);
	return filter_owner_allows(filter, &facts);
}

/*
 * Accounts `bytes` moved by one call on `sk` (kind: UDP_RECORD_SEND or
 * UDP_RECORD_RECV) in the calling process's context, then emits a record
 * (or, coalescing, marks the socket pending).
 */
static __always_inline void OP_HANDLER(void *ctx, struct sock *sk, long bytes, int kind)
{
	const struct filter *filter;
	struct udp_socket_state *state;
	struct udp_peer peer = {};
	__u64 key = (__u64)sk;
	__u64 pid_tgid;
	__u64 now;
	__u16 family;

	if (!sk || SK_READ(sk, sk_protocol) != IPPROTO_UDP)
		return;
	family = SK_READ(sk, __sk_common.skc_family);
	if (!is_inet_family(family))
		return;
	/* The peer a cgroup hook saw in this same call, if any; consumed
	 * whether or not the call moved data. */
	pid_tgid = bpf_get_current_pid_tgid();
	take_peer(&peer, pid_tgid);
	if (bytes <= 0)
		return;
	/* Excluded traffic costs this check, not the socket's state. */
	filter = active_filter();
	if (filter && !OP_ALLOWED(filter, sk, family, &peer, key))
		return;

	state = bpf_map_lookup_elem(&udp_sockets, &key);
	if (!state) {
		struct udp_socket_state fresh = {};

		/* Kernel sockets never pass cgroup sock_release: their state
		 * could not be removed. */
		if (SK_KERN_SOCK(sk))
			return;
		fresh.cookie = COOKIE(sk);
		fresh.netns = socket_netns(sk);
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
	state->last_op = kind;
	/* The caller. pid and comm are read again only when another thread
	 * calls (tid and tgid both compared: a recycled tid in another process
	 * is another caller), or this one renamed itself (comm compared in
	 * place); uid (setuid) and cgroup (a move) are cheap to read each time. */
	if (state->owner_tid != (__u32)pid_tgid || state->owner.pid != (__u32)(pid_tgid >> 32) ||
	    !SAME_COMM(state->owner.comm)) {
		owner_from_current(&state->owner);
		state->owner_tid = (__u32)pid_tgid;
	} else {
		state->owner.uid = (__u32)bpf_get_current_uid_gid();
	}
	state->cgroup_id = bpf_get_current_cgroup_id();
	state->rx_drops = SK_DROPS(sk);
	state->family = family;
	/* Read after the call: an unbound socket has its port by now. */
	state->sport = SK_READ(sk, __sk_common.skc_num);
	READ_LOCAL_ADDR(state->saddr, sk, family);
	if (peer.sk == key) {
		/* An address given with this call (sendto, or recvfrom asking for
		 * the source): the peer of this datagram. */
		set_peer(state, &peer);
	} else if (SK_READ(sk, __sk_common.skc_dport)) {
		/* Connected: the peer is the socket's. */
		state->dport = bpf_ntohs(SK_READ(sk, __sk_common.skc_dport));
		/* An earlier call's peer (set_peer) wrote all 16 bytes; IPv4 reads 4. */
		if (family == AF_INET)
			__builtin_memset(state->daddr, 0, sizeof(state->daddr));
		READ_REMOTE_ADDR(state->daddr, sk, family);
	} else {
		/* Unconnected and no address asked for (recv()/read()): the
		 * kernel never computed the source; say so rather than guess. */
		state->dport = 0;
		__builtin_memset(state->daddr, 0, sizeof(state->daddr));
	}
	report(ctx, state, kind, now, key);
}
