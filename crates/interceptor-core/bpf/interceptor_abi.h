/* SPDX-License-Identifier: MIT */
/*
 * Layouts shared by every BPF object and the Rust core (crates/interceptor-core).
 * Their Rust types are generated from the objects' BTF into each library's
 * skeleton; the counter indices are also the core's (crates/interceptor-core
 * stats.rs), checked at compile time by each library.
 */
#ifndef INTERCEPTOR_ABI_H
#define INTERCEPTOR_ABI_H

/* Per-CPU counters kept by the BPF side, read by the stats call. */
enum interceptor_counter {
	/* records handed to the ring or perf buffer */
	COUNTER_EMITTED = 0,
	/* records the ring or perf buffer refused (full): lost before user space */
	COUNTER_LOST = 1,
	/* updates refused because a per-socket map was full */
	COUNTER_MAP_FULL = 2,
	/* events emitted without a known owning process */
	COUNTER_OWNER_UNKNOWN = 3,
	COUNTER_MAX = 4,
};

/* Load-time settings written into .rodata by the core before loading. */
struct interceptor_config {
	/* 1: emit through the perf buffer (events_perf) instead of the ring buffer */
	__u32 use_perf_buffer;
	/*
	 * Ring buffer: records are submitted without waking the poller until at
	 * least this many bytes are pending; the poller drains on a short timer
	 * otherwise. 0 leaves the kernel's own wakeup policy.
	 */
	__u32 wakeup_batch_bytes;
};

/* The process a socket belongs to, as last seen in process context. */
struct socket_owner {
	__u32 pid;
	__u32 uid;
	char comm[16];
};

#endif /* INTERCEPTOR_ABI_H */
