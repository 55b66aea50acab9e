//! The kernel's record (bpf/tcp_event.h) and its conversion into the
//! consumer's `struct tcp_event_t`.

use interceptor_core::abi::{CStruct, copy_c_string};
use interceptor_core::addr::format_addr;
use interceptor_core::clock::WallClock;
use interceptor_core::record::KernelRecord;

use crate::TcpEvent;

/// Mirror of `struct tcp_close_record` (checked against the object's BTF).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct TcpCloseRecord {
    pub boot_ns: u64,
    pub bytes_received: u64,
    pub bytes_acked: u64,
    pub data_segs_out: u32,
    pub data_segs_in: u32,
    pub pid: u32,
    pub uid: u32,
    pub family: u16,
    pub sport: u16,
    pub dport: u16,
    pub owner_known: u8,
    pub kind: u8,
    pub comm: [u8; 16],
    pub saddr: [u8; 16],
    pub daddr: [u8; 16],
}

// SAFETY: integers and integer arrays only.
unsafe impl KernelRecord for TcpCloseRecord {}

/// `enum tcp_record_kind`.
pub mod kind {
    pub const CLOSE: u8 = 0;
    pub const SNAPSHOT: u8 = 1;
}

/// The byte of `task` that tells a snapshot from a close: comm never reaches
/// it (at most 16 bytes), so close events always have 0 there.
pub const SNAPSHOT_MARK_INDEX: usize = 127;

/// Its value in snapshot events.
pub const SNAPSHOT_MARK: u8 = 1;

/// Converts one record: time to the Unix epoch, addresses to text.
pub fn convert(sample: &[u8], clock: &WallClock) -> Option<TcpEvent> {
    let record = TcpCloseRecord::read_from(sample)?;
    let mut event = TcpEvent::zeroed();
    event.EventTime = clock.epoch_ns(record.boot_ns);
    event.pid = record.pid;
    event.UserId = record.uid;
    event.rx_b = record.bytes_received;
    event.tx_b = record.bytes_acked;
    event.tcpi_segs_out = record.data_segs_out;
    event.tcpi_segs_in = record.data_segs_in;
    event.family = record.family;
    event.SPT = record.sport;
    event.DPT = record.dport;
    copy_c_string(&mut event.task, &record.comm);
    if record.kind == kind::SNAPSHOT {
        event.task[SNAPSHOT_MARK_INDEX] = SNAPSHOT_MARK as std::ffi::c_char;
    }
    // Byte arrays have alignment 1, so borrowing them in a packed struct is fine.
    format_addr(record.family, &record.saddr, &mut event.SADDR);
    format_addr(record.family, &record.daddr, &mut event.DADDR);
    Some(event)
}
