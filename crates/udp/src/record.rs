//! The kernel's record (`struct udp_record` in bpf/udp_event.h, its Rust
//! type generated into the skeleton) and its conversion into the consumer's
//! `struct udp_event_t`.

use interceptor_core::prelude::*;

use crate::UdpEvent;
use crate::skel::types::udp_record;

// SAFETY: a #[repr(C)] struct of integers and integer arrays (generated from
// the object's BTF), for which every bit pattern is a valid value.
unsafe impl KernelRecord for udp_record {}

/// Converts one record: time to the Unix epoch, addresses to text.
pub fn convert(sample: &[u8], clock: &WallClock) -> Option<UdpEvent> {
    let record = udp_record::read_from(sample)?;
    let mut event = UdpEvent::zeroed();
    event.family = record.family;
    event.pid = record.pid;
    event.UserId = record.uid;
    event.EventTime = clock.epoch_ns(record.boot_ns);
    event.SPT = record.sport;
    event.DPT = record.dport;
    // Byte arrays have alignment 1, so borrowing them in a packed struct is fine.
    copy_c_string(&mut event.task, &record.comm.map(|c| c as u8));
    event.rx_b = record.rx_bytes;
    event.tx_b = record.tx_bytes;
    event.rxPkts = record.rx_packets;
    event.txPkts = record.tx_packets;
    format_addr(record.family, &record.saddr, &mut event.SADDR);
    format_addr(record.family, &record.daddr, &mut event.DADDR);
    Some(event)
}
