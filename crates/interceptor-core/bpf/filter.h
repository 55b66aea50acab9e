/* SPDX-License-Identifier: MIT */
/*
 * The in-kernel filter both objects evaluate before any map update or ring
 * record: terms of one key OR, different keys AND, no key means everything.
 * User space (crates/interceptor-core/src/filter.rs) parses the spec
 * ("pid=1,port=80,addr=10.0.0.0/8") into this layout; its Rust type is
 * generated into each library's skeleton.
 */
#ifndef FILTER_H
#define FILTER_H

/* Values per key. */
#define FILTER_TERMS 8

/* Which keys a filter has (struct filter.keys). */
enum filter_key {
	FILTER_KEY_PID = 1 << 0,
	FILTER_KEY_UID = 1 << 1,
	FILTER_KEY_COMM = 1 << 2,
	FILTER_KEY_PORT = 1 << 3,	/* either end */
	FILTER_KEY_LPORT = 1 << 4,
	FILTER_KEY_RPORT = 1 << 5,
	FILTER_KEY_FAMILY = 1 << 6,
	FILTER_KEY_ADDR = 1 << 7,	/* either end */
	FILTER_KEY_NETNS = 1 << 8,
	FILTER_KEY_CGROUP = 1 << 9,	/* that cgroup and its descendants */
	/* keys decided by the owning process, not by the socket */
	FILTER_KEY_OWNER_KEYS = FILTER_KEY_PID | FILTER_KEY_UID | FILTER_KEY_COMM | FILTER_KEY_CGROUP,
};

/* An address range: an address matches when (address & mask) == net. An
 * IPv4 range also comes as its v4-mapped IPv6 range (dual-stack sockets). */
struct filter_cidr {
	__u64 net[2];
	__u64 mask[2];
	__u16 family;
	__u16 reserved[3];
};

/* Widest fields first: no implicit padding, so user space can write the
 * struct as its bytes. */
struct filter {
	__u64 comm[FILTER_TERMS][2];	/* 16 bytes, NUL-padded */
	__u64 cgroup[FILTER_TERMS];	/* cgroup v2 id (its directory's inode) */
	struct filter_cidr addr[FILTER_TERMS];
	__u32 keys;			/* enum filter_key bits */
	__u32 generation;		/* changes with every filter user space installs */
	__u32 pid[FILTER_TERMS];
	__u32 uid[FILTER_TERMS];
	__u32 netns[FILTER_TERMS];	/* network namespace inode */
	__u16 port[FILTER_TERMS];
	__u16 lport[FILTER_TERMS];
	__u16 rport[FILTER_TERMS];
	__u8 families;			/* bit 0: AF_INET, bit 1: AF_INET6 */
	__u8 n_pid;
	__u8 n_uid;
	__u8 n_comm;
	__u8 n_port;
	__u8 n_lport;
	__u8 n_rport;
	__u8 n_addr;
	__u8 n_netns;
	__u8 n_cgroup;
	__u8 reserved[6];
};

#endif /* FILTER_H */
