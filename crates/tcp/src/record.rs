//! The kernel's record (`struct tcp_close_record` in bpf/tcp_event.h, its
//! Rust type generated into the skeleton) and its conversion into the
//! extended event the queue holds.

use interceptor_core::prelude::*;

use crate::events::{TcpEventEx, kind, role};
use crate::skel::types::{tcp_close_record, tcp_record_kind, tcp_role};

// SAFETY: a #[repr(C)] struct of integers and integer arrays (generated from
// the object's BTF), for which every bit pattern is a valid value.
unsafe impl KernelRecord for tcp_close_record {}

/// The record's kind as the extended event says it.
fn event_kind(record_kind: u8) -> u32 {
    match u32::from(record_kind) {
        k if k == tcp_record_kind::TCP_RECORD_SNAPSHOT.0 => kind::SNAPSHOT,
        k if k == tcp_record_kind::TCP_RECORD_FAILED_CONNECT.0 => kind::FAILED_CONNECT,
        _ => kind::CLOSE,
    }
}

/// The socket's role as the extended event says it.
fn event_role(record_role: u8) -> u32 {
    match u32::from(record_role) {
        r if r == tcp_role::TCP_ROLE_ACTIVE.0 => role::ACTIVE,
        r if r == tcp_role::TCP_ROLE_PASSIVE.0 => role::PASSIVE,
        _ => role::UNKNOWN,
    }
}

/// Converts one record: time to the Unix epoch, addresses to text, the
/// socket's first sighting to a duration.
pub fn convert(sample: &[u8], clock: &WallClock) -> Option<TcpEventEx> {
    let r = tcp_close_record::read_from(sample)?;
    let mut event = TcpEventEx::zeroed();
    event.size = std::mem::size_of::<TcpEventEx>() as u32;
    event.kind = event_kind(r.kind);
    event.EventTime = clock.epoch_ns(r.boot_ns);
    event.pid = r.pid;
    event.UserId = r.uid;
    event.rx_b = r.bytes_received;
    event.tx_b = r.bytes_acked;
    event.tcpi_segs_out = r.data_segs_out;
    event.tcpi_segs_in = r.data_segs_in;
    event.family = r.family;
    event.SPT = r.sport;
    event.DPT = r.dport;
    copy_c_string(&mut event.task, &r.comm.map(|c| c as u8));
    format_addr(r.family, &r.saddr, &mut event.SADDR);
    format_addr(r.family, &r.daddr, &mut event.DADDR);
    event.saddr_raw = r.saddr;
    event.daddr_raw = r.daddr;
    event.srtt_us = r.srtt_us;
    event.rttvar_us = r.rttvar_us;
    event.min_rtt_us = r.min_rtt_us;
    event.total_retrans = r.total_retrans;
    event.lost = r.lost;
    event.segs_out = r.segs_out;
    event.segs_in = r.segs_in;
    event.role = event_role(r.role);
    event.bytes_sent = r.bytes_sent;
    event.bytes_retrans = r.bytes_retrans;
    if r.first_ns != 0 {
        event.duration_ns = r.boot_ns.saturating_sub(r.first_ns);
        if event.role == role::ACTIVE && r.established_ns != 0 {
            event.connect_ns = r.established_ns.saturating_sub(r.first_ns);
        }
    }
    event.error = r.error;
    event.netns_ino = r.netns;
    event.cgroup_id = r.cgroup_id;
    event.cookie = r.cookie;
    Some(event)
}
