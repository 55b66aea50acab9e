//! The kernel's record (`struct udp_record` in bpf/udp_event.h, its Rust
//! type generated into the skeleton) and its conversion into the extended
//! event the queue holds.

use interceptor_core::prelude::*;

use crate::events::{UdpEventEx, kind};
use crate::skel::types::{udp_record, udp_record_kind};

// SAFETY: a #[repr(C)] struct of integers and integer arrays (generated from
// the object's BTF), for which every bit pattern is a valid value.
unsafe impl KernelRecord for udp_record {}

/// The extended event's kind for a record's kind (a flush or a close
/// reports the last call's).
fn event_kind(record: &udp_record) -> u32 {
    let of = |k: u8| match u32::from(k) {
        k if k == udp_record_kind::UDP_RECORD_SEND.0 => Some(kind::SEND),
        k if k == udp_record_kind::UDP_RECORD_RECV.0 => Some(kind::RECEIVE),
        k if k == udp_record_kind::UDP_RECORD_CLOSE.0 => Some(kind::CLOSE),
        _ => None,
    };
    of(record.kind).or_else(|| of(record.last_op)).unwrap_or(kind::SEND)
}

/// Converts one record: time to the Unix epoch, addresses to text.
pub fn convert(sample: &[u8], clock: &WallClock) -> Option<UdpEventEx> {
    let record = udp_record::read_from(sample)?;
    let mut event = UdpEventEx::zeroed();
    event.size = std::mem::size_of::<UdpEventEx>() as u32;
    event.kind = event_kind(&record);
    event.family = record.family;
    event.pid = record.pid;
    event.UserId = record.uid;
    event.EventTime = clock.epoch_ns(record.boot_ns);
    event.SPT = record.sport;
    event.DPT = record.dport;
    copy_c_string(&mut event.task, &record.comm.map(|c| c as u8));
    event.rx_b = record.rx_bytes;
    event.tx_b = record.tx_bytes;
    event.rxPkts = record.rx_packets;
    event.txPkts = record.tx_packets;
    format_addr(record.family, &record.saddr, &mut event.SADDR);
    format_addr(record.family, &record.daddr, &mut event.DADDR);
    event.saddr_raw = record.saddr;
    event.daddr_raw = record.daddr;
    event.cgroup_id = record.cgroup_id;
    event.cookie = record.cookie;
    event.netns_ino = record.netns;
    event.rx_drops = record.rx_drops;
    Some(event)
}
