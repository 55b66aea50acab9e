/* SPDX-License-Identifier: MIT */
/*
 * TEMPLATE: the inet_sock_set_state handler and the record it sends,
 * included twice by tcp_event.bpf.c:
 *
 *   - for tp_btf (and the iter/tcp snapshot), with direct loads: the socket
 *     is a BTF-typed pointer and plain loads cost a fraction of
 *     bpf_probe_read_kernel() calls (measured: ~2,300 fewer instructions per
 *     connection, see README "Overhead");
 *   - for raw_tp and the tracepoint, with CO-RE probe reads.
 *
 * The includer defines STATE_HANDLER, FILL_RECORD, SOCKET_ALLOWED and
 * EPHEMERAL_PORTS (the functions' names) and:
 *   SK_READ(sk, field)            a struct sock field
 *   SK_READ_INTO(dst, sk, field)  copies a struct sock field into *dst
 *   TCP_SOCK(sk)                  the tcp_sock, or NULL if sk is not TCP
 *   TCP_SOCK_OF_TCP(sk)           the same for a socket known to be TCP
 *   TP_READ(tp, field)            a struct tcp_sock field
 *   TP_HAS(tp, field)             whether the running kernel's tcp_sock has it
 *   KREAD(ptr, field)             a field behind another kernel pointer
 *   COOKIE(sk)                    the socket's cookie, at its first sighting
 *   NETNS(sk)                     the socket's network namespace inode
 */

/*
 * The ports connect() picks a local port from in a socket's network
 * namespace (net.ipv4.ip_local_port_range, which IPv6 shares; a socket's own
 * IP_LOCAL_PORT_RANGE only narrows it): what a filter knows of a connecting
 * socket's local port before connect() has chosen it, so that a port term
 * outside the range (a server's port) excludes outgoing connections at once.
 */
static __always_inline void EPHEMERAL_PORTS(struct sock *sk, __u16 *low, __u16 *high)
{
	struct net *net = SK_READ(sk, __sk_common.skc_net.net);
	struct local_ports *ports = &net->ipv4.ip_local_ports;
	struct local_ports___pair *pair = (void *)ports;

	/* An existence check: it is 0 where the types differ, while any other
	 * relocation of a field whose type differs fails the load (the 5.10
	 * and 6.1 matrix cells refused bpf_core_field_size(ports->range)). */
	if (bpf_core_field_exists(pair->range)) {
		*low = KREAD(pair, range[0]);
		*high = KREAD(pair, range[1]);
	} else {
		__u32 range = KREAD(ports, range);

		*low = range & 0xffff;
		*high = range >> 16;
	}
	/* low <= high: the sysctl refuses anything else. */
}

/*
 * Whether the filter's socket terms (family, ports, addresses, netns) let a
 * socket through, on what it says now. Excluded traffic costs this check at
 * each of its points (it gets no entry that could remember the verdict).
 * Every socket fact is read, whatever the terms: a few loads, while reading
 * only those a term names split each verifier path once per key (the 5.10
 * kernel matrix verified ~40 % more instructions per start and ran ~23 %
 * longer; ns per connection the same within noise). The local port is not
 * known before connect() has picked it (at SYN_SENT it may not be): then the
 * namespace's ephemeral range stands for it, read only for port terms.
 */
static __always_inline int SOCKET_ALLOWED(const struct filter *filter, struct sock *sk, int connecting)
{
	struct filter_facts facts = {
		.family = SK_READ(sk, __sk_common.skc_family),
	};
	/* Every caller has checked the protocol. */
	struct tcp_sock *tp = TCP_SOCK_OF_TCP(sk);

	if (tp)
		facts.lport = bpf_ntohs(TP_READ(tp, inet_conn.icsk_inet.inet_sport));
	/* A constant everywhere but at SYN_SENT: the range's code and paths
	 * exist only there. */
	facts.lport_known = connecting ? facts.lport != 0 : 1;
	if (!facts.lport_known && (filter->keys & (FILTER_KEY_PORT | FILTER_KEY_LPORT)))
		EPHEMERAL_PORTS(sk, &facts.lport, &facts.lport_high);
	facts.rport = bpf_ntohs(SK_READ(sk, __sk_common.skc_dport));
	facts.netns = NETNS(sk);
	READ_LOCAL_ADDR(facts.laddr, sk, facts.family);
	READ_REMOTE_ADDR(facts.raddr, sk, facts.family);
	return filter_socket_allows(filter, &facts);
}

/*
 * Fills a record of `kind` for a TCP socket: counters, RTT, error, identity,
 * addresses, ports, owner. The family is already in the record. Returns 0
 * (and the record must not be sent) when the filter excludes it.
 */
static __always_inline int FILL_RECORD(struct tcp_close_record *record, struct sock *sk, struct tcp_sock *tp,
				       const struct tcp_socket_info *info, __u8 kind, const struct filter *filter)
{
	record->kind = kind;
	record->boot_ns = bpf_ktime_get_boot_ns();
	record->bytes_received = TP_READ(tp, bytes_received);
	record->bytes_acked = TP_READ(tp, bytes_acked);
	record->bytes_sent = TP_READ(tp, bytes_sent);
	record->bytes_retrans = TP_READ(tp, bytes_retrans);
	record->data_segs_out = TP_READ(tp, data_segs_out);
	record->data_segs_in = TP_READ(tp, data_segs_in);
	record->segs_out = TP_READ(tp, segs_out);
	record->segs_in = TP_READ(tp, segs_in);
	/* Kept scaled in the kernel; unscaled as tcp_get_info() reports them. */
	record->srtt_us = TP_READ(tp, srtt_us) >> 3;
	record->rttvar_us = TP_READ(tp, mdev_us) >> 2;
	record->min_rtt_us = TP_READ(tp, rtt_min.s[0].v);
	record->total_retrans = TP_READ(tp, total_retrans);
	/* Cumulative packets lost (4.19+); lost_out, those lost now, before. */
	record->lost = TP_HAS(tp, lost) ? TP_READ(tp, lost) : TP_READ(tp, lost_out);
	record->error = SK_READ(sk, sk_err);
	record->netns = NETNS(sk);
	/* skc_num is already 0 at close for sockets that never called bind():
	 * inet_put_port() ran first. inet_sport keeps the port. */
	record->sport = bpf_ntohs(TP_READ(tp, inet_conn.icsk_inet.inet_sport));
	record->dport = bpf_ntohs(SK_READ(sk, __sk_common.skc_dport));
	READ_LOCAL_ADDR(record->saddr, sk, record->family);
	READ_REMOTE_ADDR(record->daddr, sk, record->family);

	if (info) {
		record->first_ns = info->first_ns;
		record->established_ns = info->established_ns;
		record->cgroup_id = info->cgroup_id;
		record->cookie = info->cookie;
		record->role = info->role;
		if (info->owner_known) {
			record->pid = info->owner.pid;
			record->uid = info->owner.uid;
			__builtin_memcpy(record->comm, info->owner.comm, sizeof(record->comm));
			record->owner_known = 1;
		}
	} else {
		record->cookie = TRACING_SOCKET_COOKIE ? COOKIE(sk) : BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	}
	if (!record->owner_known)
		/* No process context seen: keep the socket's uid, never guess a pid. */
		record->uid = SK_READ(sk, sk_uid.val);
	if (filter && !record_allowed(filter, record, info))
		return 0;
	if (!record->owner_known)
		count(COUNTER_OWNER_UNKNOWN);
	return 1;
}

static __always_inline int STATE_HANDLER(void *ctx, struct sock *sk, int oldstate, int newstate)
{
	struct tcp_close_record record = {};
	__u64 key = (__u64)sk;
	struct tcp_sock *tp;

	/* Most transitions of a connection need nothing: decide on the states
	 * (free) before reading the socket (not free). */
	switch (newstate) {
	case TCP_SYN_SENT: {	/* connect(): the first sighting of an active open */
		const struct filter *filter;

		if (SK_READ(sk, sk_protocol) != IPPROTO_TCP || !is_inet_family(SK_READ(sk, __sk_common.skc_family)))
			return 0;
		/* Checked here, where the socket's fields are cheapest to read,
		 * and before its cookie is made. */
		filter = active_filter();
		if (filter && !SOCKET_ALLOWED(filter, sk, 1))
			return 0;
		record_owner(sk, TCP_ROLE_ACTIVE, COOKIE(sk), 1);
		return 0;
	}
	case TCP_FIN_WAIT1:	/* close() or shutdown() first */
	case TCP_LAST_ACK:	/* close() or shutdown() after the peer */
		if (SK_READ(sk, sk_protocol) == IPPROTO_TCP && is_inet_family(SK_READ(sk, __sk_common.skc_family)))
			record_owner(sk, TCP_ROLE_UNKNOWN, 0, 0);
		return 0;
	case TCP_ESTABLISHED:
		if (oldstate == TCP_SYN_SENT) {
			struct tcp_socket_info *info = bpf_map_lookup_elem(&tcp_sockets, &key);

			if (info)
				info->established_ns = bpf_ktime_get_boot_ns();
		} else if (oldstate == TCP_SYN_RECV && SK_READ(sk, sk_protocol) == IPPROTO_TCP) {
			/* The passive open's handshake completed (softirq: the owner
			 * comes with accept). */
			const struct filter *filter = active_filter();
			struct tcp_socket_info fresh = {
				.role = TCP_ROLE_PASSIVE,
			};

			/* Excluded traffic gets no entry (see record_owner). */
			if (filter && !SOCKET_ALLOWED(filter, sk, 0))
				return 0;
			fresh.first_ns = bpf_ktime_get_boot_ns();
			fresh.cookie = COOKIE(sk);
			count_update_failure(bpf_map_update_elem(&tcp_sockets, &key, &fresh, BPF_NOEXIST));
		}
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
		__u8 kind = oldstate == TCP_SYN_SENT ? TCP_RECORD_FAILED_CONNECT : TCP_RECORD_CLOSE;
		const struct filter *filter = active_filter();
		struct tcp_socket_info *info = bpf_map_lookup_elem(&tcp_sockets, &key);
		int excluded_without_entry;

		/* No entry: usually a socket the filter excluded from the start,
		 * whose socket terms cost less to check than the record to fill. */
		excluded_without_entry = !info && filter && !SOCKET_ALLOWED(filter, sk, 0);

		if (!excluded_without_entry && FILL_RECORD(&record, sk, tp, info, kind, filter))
			emit_record(ctx, &record, sizeof(record));
		/* A snapshot may have reported it: see snapshots_without_entry. */
		if (info ? info->snapshotted : snapshots_without_entry != 0)
			bpf_map_delete_elem(&tcp_snapshots, &key);
	}
	/* Listeners and handshakes that never completed have no snapshot.
	 * Deleted even when the lookup above missed: an entry another CPU
	 * inserted since must not outlive the socket (sockets without a file
	 * never pass sock_release). */
	bpf_map_delete_elem(&tcp_sockets, &key);
	return 0;
}
