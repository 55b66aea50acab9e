/* SPDX-License-Identifier: MIT */
/*
 * BPF-side machinery shared by the TCP and UDP objects: the event transport
 * (ring buffer, or perf buffer as a fallback), the counters behind the stats
 * call, and owner capture. Each object includes this once.
 */
#ifndef INTERCEPTOR_BPF_H
#define INTERCEPTOR_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "interceptor_abi.h"

/* Not in BTF: preprocessor constants of the kernel's uapi. */
#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define E2BIG 7
#define ENOMEM 12
#define EEXIST 17

/*
 * The benchmark's floor (crates/bench builds each library's object a second
 * time with -DINTERCEPTOR_FLOOR): every program starts with FLOOR_RETURN, so
 * the same hooks on the same attach path cost only what the kernel spends to
 * run them.
 */
#ifdef INTERCEPTOR_FLOOR
#define FLOOR_RETURN(value) return (value)
#else
#define FLOOR_RETURN(value) \
	do {                \
	} while (0)
#endif

/* "Dual MIT/GPL" is GPL-compatible for the kernel, MIT for this project. */
char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile struct interceptor_config interceptor_config = {};

/*
 * Puts a user-space-visible type into this object's BTF without using it in a
 * map, so that libbpf-cargo generates its Rust type into the skeleton (a type
 * only passed to bpf_ringbuf_output() leaves no trace in the BTF).
 */
#define EXPORT_LAYOUT(type, anchor) const volatile type anchor __attribute__((unused))

EXPORT_LAYOUT(enum interceptor_counter, layout_interceptor_counter);
EXPORT_LAYOUT(struct socket_owner, layout_socket_owner);

/* Sized by the core at open time (it knows the record rate of each library). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events_perf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void add_to_counter(enum interceptor_counter which, __s64 delta)
{
	__u32 key = which;
	__u64 *value = bpf_map_lookup_elem(&counters, &key);

	/* Atomic because a softirq program can interrupt one in process context
	 * on the same CPU. The result stays unused: 5.10 has no fetch atomics. */
	if (value)
		__sync_fetch_and_add(value, delta);
}

static __always_inline void count(enum interceptor_counter which)
{
	add_to_counter(which, 1);
}

/*
 * Counts a failed update of a per-socket map when the map was full.
 * Takes the result as int: the verifier turns bpf_map_update_elem() on a hash
 * map into a direct call of the map's C function, which returns int, and on
 * 5.10 and 6.1 the upper half of the register is not sign-extended (-E2BIG
 * arrives as 0xfffffff9). Found by the kernel matrix.
 */
static __always_inline void count_update_failure(int err)
{
	if (err == -E2BIG || err == -ENOMEM)
		count(COUNTER_MAP_FULL);
}

static __always_inline __u64 ringbuf_wakeup_flag(void)
{
	__u32 batch = interceptor_config.wakeup_batch_bytes;

	if (!batch)
		return 0;
	/* Waking the poller per record costs a context switch per connection;
	 * below the batch size the poller's drain timer picks records up. */
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= batch)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* Hands one record to user space; a refused record is counted as lost.
 * It is counted as emitted before it is handed over, and taken back if
 * refused (on the same CPU: programs do not migrate), so user space never
 * takes a record that kernel_emitted does not include yet: kernel_emitted
 * equal to what the poller took means no record is in flight, which callers
 * (the tests) can wait for instead of sleeping. */
static __always_inline void emit_record(void *ctx, void *record, __u64 size)
{
	long err;

	count(COUNTER_EMITTED);
	/* interceptor_config is read-only and known at load time, so the
	 * verifier only ever sees one of these two branches. */
	if (interceptor_config.use_perf_buffer)
		err = bpf_perf_event_output(ctx, &events_perf, BPF_F_CURRENT_CPU, record, size);
	else
		err = bpf_ringbuf_output(&events, record, size, ringbuf_wakeup_flag());
	if (err) {
		add_to_counter(COUNTER_EMITTED, -1);
		count(COUNTER_LOST);
	}
}

/*
 * Ring buffer only: room for one record in the ring, to be written in place
 * and handed over with submit_record() (no record built on the stack and
 * copied); NULL, counted as lost, when the ring is full.
 */
static __always_inline void *reserve_record(__u64 size)
{
	void *record = bpf_ringbuf_reserve(&events, size, 0);

	if (!record)
		count(COUNTER_LOST);
	return record;
}

/* Counted as emitted before it is handed over, as in emit_record(). */
static __always_inline void submit_record(void *record)
{
	count(COUNTER_EMITTED);
	bpf_ringbuf_submit(record, ringbuf_wakeup_flag());
}

extern int LINUX_KERNEL_VERSION __kconfig;

/*
 * Whether tracing programs (tp_btf, fentry, iterators: BTF-typed socket
 * pointers) may call bpf_get_socket_cookie() (5.12). LINUX_KERNEL_VERSION is
 * a constant of the loaded object, so the verifier never even checks the
 * call where this is false.
 */
#define TRACING_SOCKET_COOKIE (LINUX_KERNEL_VERSION >= (5 << 16) + (12 << 8))

/* Whether bpf_get_current_task_btf() exists (5.11): the current task's
 * fields by direct loads instead of helper calls. */
#define CURRENT_TASK_BTF (LINUX_KERNEL_VERSION >= (5 << 16) + (11 << 8))

/*
 * A socket's key where the kernel's cookie cannot be read: the time of the
 * first sighting and the CPU, unique per socket while the library runs.
 */
static __always_inline __u64 library_socket_key(void)
{
	return (bpf_ktime_get_boot_ns() << 6) | (bpf_get_smp_processor_id() & 63);
}

/*
 * A socket's local and remote address into a 16-byte buffer: IPv4's 4 bytes
 * first (the rest is left as it was), IPv6 whole. They expand to the
 * includer's SK_READ_INTO, so each attach path reads them its own way
 * (direct loads on the BTF paths, CO-RE probe reads elsewhere).
 */
#define READ_LOCAL_ADDR(dst, sk, family)                                                      \
	do {                                                                                  \
		if ((family) == AF_INET)                                                      \
			SK_READ_INTO((__u32 *)(dst), sk, __sk_common.skc_rcv_saddr);          \
		else                                                                          \
			SK_READ_INTO(&(dst), sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8); \
	} while (0)

#define READ_REMOTE_ADDR(dst, sk, family)                                                 \
	do {                                                                              \
		if ((family) == AF_INET)                                                  \
			SK_READ_INTO((__u32 *)(dst), sk, __sk_common.skc_daddr);          \
		else                                                                      \
			SK_READ_INTO(&(dst), sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8); \
	} while (0)

/* The network namespace of a socket (its inode, as /proc/PID/ns/net). */
static __always_inline __u32 socket_netns(struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

static __always_inline void owner_from_current(struct socket_owner *owner)
{
	owner->pid = bpf_get_current_pid_tgid() >> 32;
	owner->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(owner->comm, sizeof(owner->comm));
}

static __always_inline void owner_from_task(struct socket_owner *owner, struct task_struct *task)
{
	owner->pid = BPF_CORE_READ(task, tgid);
	owner->uid = BPF_CORE_READ(task, cred, uid.val);
	BPF_CORE_READ_STR_INTO(&owner->comm, task, comm);
}

static __always_inline int is_inet_family(__u16 family)
{
	return family == AF_INET || family == AF_INET6;
}

/* The socket behind an open file, or NULL when the file is not a socket. */
static __always_inline struct sock *socket_of_file(struct file *file)
{
	umode_t mode = BPF_CORE_READ(file, f_inode, i_mode);
	struct socket *sock;

	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(sock, sk);
}

/* The socket behind file descriptor fd of the current process, which the
 * caller knows to be a socket (one accept() returned): the file's inode is
 * not read to check (two probe reads fewer on every accept). */
static __always_inline struct sock *socket_of_socket_fd(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	unsigned int max_fds = BPF_CORE_READ(fdt, max_fds);
	struct file **files = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	struct socket *sock;

	if (fd < 0 || fd >= max_fds)
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &files[fd]);
	if (!file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(sock, sk);
}

#endif /* INTERCEPTOR_BPF_H */
