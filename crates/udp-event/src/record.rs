//! The kernel's record (bpf/udp_event.h) and its conversion into the
//! consumer's `struct udp_event_t`.

use interceptor_core::abi::{CStruct, copy_c_string};
use interceptor_core::addr::format_addr;
use interceptor_core::clock::WallClock;
use interceptor_core::record::KernelRecord;

use crate::UdpEvent;

/// Mirror of `struct udp_record` (checked against the object's BTF).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct UdpRecord {
    pub boot_ns: u64,
    pub tx_bytes: u64,
    pub rx_bytes: u64,
    pub tx_packets: u32,
    pub rx_packets: u32,
    pub pid: u32,
    pub uid: u32,
    pub family: u16,
    pub sport: u16,
    pub dport: u16,
    pub kind: u8,
    pub reserved: u8,
    pub comm: [u8; 16],
    pub saddr: [u8; 16],
    pub daddr: [u8; 16],
}

// SAFETY: integers and integer arrays only.
unsafe impl KernelRecord for UdpRecord {}

/// `enum udp_record_kind`.
pub mod kind {
    pub const SEND: u8 = 1;
    pub const RECV: u8 = 2;
    pub const CLOSE: u8 = 3;
    pub const FLUSH: u8 = 4;
}

/// Converts one record: time to the Unix epoch, addresses to text.
pub fn convert(sample: &[u8], clock: &WallClock) -> Option<UdpEvent> {
    let record = UdpRecord::read_from(sample)?;
    let mut event = UdpEvent::zeroed();
    event.family = record.family;
    event.pid = record.pid;
    event.UserId = record.uid;
    event.EventTime = clock.epoch_ns(record.boot_ns);
    event.SPT = record.sport;
    event.DPT = record.dport;
    // Byte arrays have alignment 1, so borrowing them in a packed struct is fine.
    copy_c_string(&mut event.task, &record.comm);
    event.rx_b = record.rx_bytes;
    event.tx_b = record.tx_bytes;
    event.rxPkts = record.rx_packets;
    event.txPkts = record.tx_packets;
    format_addr(record.family, &record.saddr, &mut event.SADDR);
    format_addr(record.family, &record.daddr, &mut event.DADDR);
    Some(event)
}
