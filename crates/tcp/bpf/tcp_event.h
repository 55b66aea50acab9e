/* SPDX-License-Identifier: MIT */
/*
 * The record the TCP object sends to user space: one per connection reaching
 * TCP_CLOSE, and the live-connection snapshots. Its Rust type is generated
 * into the skeleton (crates/tcp/src/record.rs converts it).
 */
#ifndef TCP_EVENT_H
#define TCP_EVENT_H

enum tcp_record_kind {
	TCP_RECORD_CLOSE = 0,		/* the connection reached TCP_CLOSE */
	TCP_RECORD_SNAPSHOT = 1,	/* a live connection whose counters changed */
	TCP_RECORD_FAILED_CONNECT = 2,	/* closed without ever reaching ESTABLISHED */
};

/* How the socket came to be. */
enum tcp_role {
	TCP_ROLE_UNKNOWN = 0,	/* opened before the library started, or while the filter excluded it */
	TCP_ROLE_ACTIVE = 1,	/* connect() */
	TCP_ROLE_PASSIVE = 2,	/* accepted */
};

/* What the library knows of one TCP socket, from its first sighting to its
 * close (tcp_sockets map, keyed by the struct sock address). */
struct tcp_socket_info {
	struct socket_owner owner;
	/* the owner's cgroup v2 id when the owner was recorded */
	__u64 cgroup_id;
	/* bpf_ktime_get_boot_ns() of the first sighting: SYN_SENT, the passive
	 * handshake's completion, or the start-up pass */
	__u64 first_ns;
	/* SYN_SENT -> ESTABLISHED, active opens only */
	__u64 established_ns;
	/* the socket cookie (or, before 5.12, the library's own key) */
	__u64 cookie;
	/* the filter generation owner_matches was evaluated against */
	__u32 filter_generation;
	__u8 owner_known;
	__u8 role;		/* enum tcp_role */
	/* the owner terms (pid, uid, comm, cgroup) of that filter matched */
	__u8 owner_matches;
	/* a snapshot may have reported it, so tcp_snapshots may have an entry
	 * to remove at its close: set by the snapshot pass, and from the start
	 * for sockets first seen after their handshake (most connections never
	 * live through a snapshot pass, and a delete of a missing key still
	 * locks its bucket) */
	__u8 snapshotted;
	__u8 reserved[8];
};

/* The counters a snapshot last reported for a socket. */
struct tcp_snapshot_counters {
	__u64 bytes_received;
	__u64 bytes_acked;
	__u32 data_segs_out;
	__u32 data_segs_in;
};

struct tcp_close_record {
	/* bpf_ktime_get_boot_ns() at the close; user space adds the epoch offset */
	__u64 boot_ns;
	/* tcp_sock counters, kernel semantics (see README "Event meanings") */
	__u64 bytes_received;
	__u64 bytes_acked;
	__u64 bytes_sent;
	__u64 bytes_retrans;
	/* boot ns of the first sighting and of ESTABLISHED (active), 0: unknown */
	__u64 first_ns;
	__u64 established_ns;
	__u64 cgroup_id;
	__u64 cookie;
	__u32 data_segs_out;
	__u32 data_segs_in;
	__u32 segs_out;
	__u32 segs_in;
	__u32 srtt_us;
	__u32 rttvar_us;
	__u32 min_rtt_us;
	__u32 total_retrans;
	__u32 lost;
	/* owner: pid is the tgid; uid the real uid */
	__u32 pid;
	__u32 uid;
	__u32 netns;
	/* sk_err at close, a positive errno; 0: none */
	__s32 error;
	/* AF_INET or AF_INET6, the socket's own family */
	__u16 family;
	/* host byte order */
	__u16 sport;
	__u16 dport;
	/* 1 when pid/uid/comm come from a process-context observation */
	__u8 owner_known;
	/* enum tcp_record_kind */
	__u8 kind;
	/* enum tcp_role */
	__u8 role;
	__u8 reserved[3];
	char comm[16];
	/* network byte order; IPv4 uses the first 4 bytes */
	__u8 saddr[16];
	__u8 daddr[16];
};

#endif /* TCP_EVENT_H */
