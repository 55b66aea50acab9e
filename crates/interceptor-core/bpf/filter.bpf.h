/* SPDX-License-Identifier: MIT */
/*
 * The in-kernel filter (layout in filter.h): the two slots user space
 * writes, and its evaluation. Included once by each object, after
 * interceptor.bpf.h.
 *
 * User space installs a filter by writing the slot not in use, switching
 * filter_active to it, then waiting for an RCU grace period before it may
 * write that slot again: a program reads one slot, whole, from start to end.
 * With no key set (the default), a check is two array lookups and a test.
 */
#ifndef FILTER_BPF_H
#define FILTER_BPF_H

#include "filter.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct filter);
} filters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} filter_active SEC(".maps");

EXPORT_LAYOUT(enum filter_key, layout_filter_key);

/* The filter in force, or NULL when there is none (no key set). */
static __always_inline const struct filter *active_filter(void)
{
	__u32 zero = 0, slot;
	__u32 *active = bpf_map_lookup_elem(&filter_active, &zero);
	const struct filter *filter;

	if (!active)
		return NULL;
	slot = *active & 1;
	filter = bpf_map_lookup_elem(&filters, &slot);
	if (!filter || !filter->keys)
		return NULL;
	return filter;
}

/* What a filter is checked against. A fact that is not known (yet) never
 * excludes: a later check, when it is known, decides. */
struct filter_facts {
	__u64 comm[2];
	__u64 laddr[2];
	__u64 raddr[2];
	__u32 pid;
	__u32 uid;
	__u32 netns;
	__u16 family;
	/* The local port; if not known (a connect() before it has chosen
	 * one), the range [lport, lport_high] it will be picked from. */
	__u16 lport;
	__u16 lport_high;
	__u16 rport;
	__u8 owner_known;	/* pid, uid, comm are the socket owner's */
	__u8 lport_known;
	__u8 cgroup_known;	/* cgroup_match holds the cgroup terms' result */
	__u8 cgroup_match;
};

static __always_inline int filter_has_u32(const __u32 *values, __u8 count, __u32 value)
{
#pragma unroll
	for (int i = 0; i < FILTER_TERMS; i++) {
		if (i >= count)
			return 0;
		if (values[i] == value)
			return 1;
	}
	return 0;
}

static __always_inline int filter_has_u16(const __u16 *values, __u8 count, __u16 value)
{
#pragma unroll
	for (int i = 0; i < FILTER_TERMS; i++) {
		if (i >= count)
			return 0;
		if (values[i] == value)
			return 1;
	}
	return 0;
}

/* Whether one of `values` lies within [low, high]: one unsigned compare
 * each (every branch here is a path the verifier walks at each start). */
static __always_inline int filter_has_u16_within(const __u16 *values, __u8 count, __u16 low, __u16 high)
{
	__u16 width = high - low;

#pragma unroll
	for (int i = 0; i < FILTER_TERMS; i++) {
		if (i >= count)
			return 0;
		if ((__u16)(values[i] - low) <= width)
			return 1;
	}
	return 0;
}

static __always_inline int filter_has_u64(const __u64 *values, __u8 count, __u64 value)
{
#pragma unroll
	for (int i = 0; i < FILTER_TERMS; i++) {
		if (i >= count)
			return 0;
		if (values[i] == value)
			return 1;
	}
	return 0;
}

static __always_inline int filter_has_comm(const struct filter *filter, const __u64 *comm)
{
#pragma unroll
	for (int i = 0; i < FILTER_TERMS; i++) {
		if (i >= filter->n_comm)
			return 0;
		if (filter->comm[i][0] == comm[0] && filter->comm[i][1] == comm[1])
			return 1;
	}
	return 0;
}

static __always_inline int filter_has_addr(const struct filter *filter, __u16 family, const __u64 *addr)
{
#pragma unroll
	for (int i = 0; i < FILTER_TERMS; i++) {
		const struct filter_cidr *cidr = &filter->addr[i];

		if (i >= filter->n_addr)
			return 0;
		if (cidr->family == family && (addr[0] & cidr->mask[0]) == cidr->net[0] &&
		    (addr[1] & cidr->mask[1]) == cidr->net[1])
			return 1;
	}
	return 0;
}

/* Whether the current task's cgroup, or one of its ancestors, is one the
 * filter names: the cgroup v2 hierarchy walked upwards through CO-RE reads
 * (available to every program type and kernel here). */
static __always_inline int filter_current_cgroup_matches(const struct filter *filter)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct cgroup *cgroup = BPF_CORE_READ(task, cgroups, dfl_cgrp);

#pragma clang loop unroll(disable)
	for (int level = 0; level < 16 && cgroup; level++) {
		__u64 id = BPF_CORE_READ(cgroup, kn, id);

#pragma unroll
		for (int i = 0; i < FILTER_TERMS; i++) {
			if (i >= filter->n_cgroup)
				break;
			if (filter->cgroup[i] == id)
				return 1;
		}
		/* struct cgroup starts with its own cgroup_subsys_state. */
		cgroup = (struct cgroup *)BPF_CORE_READ(cgroup, self.parent);
	}
	return 0;
}

/* The owner's terms: pid, uid, comm and cgroup. */
static __always_inline int filter_owner_allows(const struct filter *filter, const struct filter_facts *facts)
{
	__u32 keys = filter->keys;

	if (!(keys & FILTER_KEY_OWNER_KEYS))
		return 1;
	if (!facts->owner_known)
		return 0;	/* an owner never seen cannot match an owner term */
	if ((keys & FILTER_KEY_PID) && !filter_has_u32(filter->pid, filter->n_pid, facts->pid))
		return 0;
	if ((keys & FILTER_KEY_UID) && !filter_has_u32(filter->uid, filter->n_uid, facts->uid))
		return 0;
	if ((keys & FILTER_KEY_COMM) && !filter_has_comm(filter, facts->comm))
		return 0;
	if ((keys & FILTER_KEY_CGROUP) && facts->cgroup_known && !facts->cgroup_match)
		return 0;
	return 1;
}

/* The socket's terms: family, ports, addresses, network namespace. */
static __always_inline int filter_socket_allows(const struct filter *filter, const struct filter_facts *facts)
{
	__u32 keys = filter->keys;

	if ((keys & FILTER_KEY_FAMILY) && !(filter->families & (facts->family == AF_INET6 ? 2 : 1)))
		return 0;
	if ((keys & FILTER_KEY_NETNS) && !filter_has_u32(filter->netns, filter->n_netns, facts->netns))
		return 0;
	if ((keys & FILTER_KEY_RPORT) && !filter_has_u16(filter->rport, filter->n_rport, facts->rport))
		return 0;
	/* Callers that know the local port say so as a constant: the compiler
	 * drops the other branch from their code (and the verifier's paths). */
	if (facts->lport_known) {
		if ((keys & FILTER_KEY_LPORT) && !filter_has_u16(filter->lport, filter->n_lport, facts->lport))
			return 0;
		if ((keys & FILTER_KEY_PORT) && !filter_has_u16(filter->port, filter->n_port, facts->lport) &&
		    !filter_has_u16(filter->port, filter->n_port, facts->rport))
			return 0;
	} else {
		/* Not chosen yet: a term matches if its port is one it may become. */
		if ((keys & FILTER_KEY_LPORT) &&
		    !filter_has_u16_within(filter->lport, filter->n_lport, facts->lport, facts->lport_high))
			return 0;
		if ((keys & FILTER_KEY_PORT) &&
		    !filter_has_u16_within(filter->port, filter->n_port, facts->lport, facts->lport_high) &&
		    !filter_has_u16(filter->port, filter->n_port, facts->rport))
			return 0;
	}
	if ((keys & FILTER_KEY_ADDR) && !filter_has_addr(filter, facts->family, facts->laddr) &&
	    !filter_has_addr(filter, facts->family, facts->raddr))
		return 0;
	return 1;
}

/* Fills the owner facts from the current task (process context only): only
 * those the filter's terms look at, since excluded traffic costs this. */
static __always_inline void filter_facts_of_current(const struct filter *filter, struct filter_facts *facts)
{
	__u32 keys = filter->keys;

	facts->owner_known = 1;
	if (keys & FILTER_KEY_PID)
		facts->pid = bpf_get_current_pid_tgid() >> 32;
	if (keys & FILTER_KEY_UID)
		facts->uid = (__u32)bpf_get_current_uid_gid();
	if (keys & FILTER_KEY_COMM)
		bpf_get_current_comm(facts->comm, sizeof(facts->comm));
	if (keys & FILTER_KEY_CGROUP) {
		facts->cgroup_known = 1;
		facts->cgroup_match = filter_current_cgroup_matches(filter);
	}
}

#endif /* FILTER_BPF_H */
