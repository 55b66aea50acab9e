/* SPDX-License-Identifier: MIT */
/*
 * Layouts of the UDP object shared with user space: the record sent per
 * event, and the per-socket state (read by nobody but the BPF side, declared
 * here to keep the two next to each other). Their Rust types are generated
 * into the skeleton (crates/udp/src/record.rs converts the record).
 */
#ifndef UDP_EVENT_H
#define UDP_EVENT_H

/* Why a record was sent. */
enum udp_record_kind {
	UDP_RECORD_SEND = 1,	/* a send call moved data */
	UDP_RECORD_RECV = 2,	/* a receive call moved data */
	UDP_RECORD_CLOSE = 3,	/* the socket was closed: final totals */
	UDP_RECORD_FLUSH = 4,	/* coalescing: totals after calls not yet reported */
};

struct udp_record {
	/* bpf_ktime_get_boot_ns() of the operation (of the last one for FLUSH) */
	__u64 boot_ns;
	/* totals of the socket so far: payload bytes and datagrams */
	__u64 tx_bytes;
	__u64 rx_bytes;
	/* cgroup v2 id of the process doing the operation (closing, for CLOSE) */
	__u64 cgroup_id;
	/* the socket cookie (or, before 5.12, the library's own key) */
	__u64 cookie;
	__u32 tx_packets;
	__u32 rx_packets;
	/* the socket's network namespace inode */
	__u32 netns;
	/* sk_drops: datagrams the kernel dropped for this socket (receive
	 * buffer full, mostly) */
	__u32 rx_drops;
	/* the process doing the operation (closing, for CLOSE) */
	__u32 pid;
	__u32 uid;
	/* the socket's family; a v4 peer of an AF_INET6 socket is v4-mapped */
	__u16 family;
	/* host byte order */
	__u16 sport;
	__u16 dport;
	__u8 kind;
	/* FLUSH and CLOSE: the kind of the last operation (SEND or RECV) */
	__u8 last_op;
	char comm[16];
	/* network byte order; IPv4 uses the first 4 bytes */
	__u8 saddr[16];
	__u8 daddr[16];
};

/* Per-socket state, keyed by the struct sock address. */
struct udp_socket_state {
	__u64 tx_bytes;
	__u64 rx_bytes;
	__u32 tx_packets;
	__u32 rx_packets;
	__u64 last_op_ns;
	__u64 last_emit_ns;
	__u64 cgroup_id;
	__u64 cookie;
	struct socket_owner owner;
	/* the thread (pid_tgid's lower half) owner was read from */
	__u32 owner_tid;
	__u32 netns;
	__u32 rx_drops;
	__u16 family;
	__u16 sport;
	__u16 dport;
	/* coalescing: calls since the last record */
	__u8 pending;
	/* enum udp_record_kind of the last operation */
	__u8 last_op;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* A peer seen by a cgroup sock_addr hook, waiting for the accounting hook
 * of the same call (same thread). */
struct udp_peer {
	__u64 sk;
	__u16 family;
	__u16 port;
	__u32 reserved;
	__u8 addr[16];
};

/* Load-time settings of the UDP object. */
struct udp_config {
	/* 0: a record per call; else at most one per socket per this many ns
	 * (plus the close record), the rest via the periodic flush */
	__u64 coalesce_ns;
	/* 1: peers wait in task storage (udp_peer_slots), else in udp_peers */
	__u32 task_storage_peers;
	/* 1: coalescing with the map-walker flush, which walks the sockets in
	 * udp_pending (else every socket) */
	__u32 pending_set;
};

#endif /* UDP_EVENT_H */
