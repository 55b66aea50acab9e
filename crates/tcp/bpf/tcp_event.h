/* SPDX-License-Identifier: MIT */
/*
 * The record the TCP object sends to user space: one per connection reaching
 * TCP_CLOSE, and the live-connection snapshots. Its Rust type is generated
 * into the skeleton (crates/tcp/src/record.rs converts it).
 */
#ifndef TCP_EVENT_H
#define TCP_EVENT_H

enum tcp_record_kind {
	TCP_RECORD_CLOSE = 0,	/* the connection reached TCP_CLOSE */
	TCP_RECORD_SNAPSHOT = 1,	/* a live connection whose counters changed */
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
	__u32 data_segs_out;
	__u32 data_segs_in;
	/* owner: pid is the tgid; uid the real uid */
	__u32 pid;
	__u32 uid;
	/* AF_INET or AF_INET6, the socket's own family */
	__u16 family;
	/* host byte order */
	__u16 sport;
	__u16 dport;
	/* 1 when pid/uid/comm come from a process-context observation */
	__u8 owner_known;
	/* enum tcp_record_kind */
	__u8 kind;
	char comm[16];
	/* network byte order; IPv4 uses the first 4 bytes */
	__u8 saddr[16];
	__u8 daddr[16];
};

#endif /* TCP_EVENT_H */
