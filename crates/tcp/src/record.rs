//! The kernel's record (`struct tcp_close_record` in bpf/tcp_event.h, its
//! Rust type generated into the skeleton) and its conversion into the
//! consumer's `struct tcp_event_t`.

use interceptor_core::prelude::*;

use crate::TcpEvent;
use crate::skel::types::{tcp_close_record, tcp_record_kind};

// SAFETY: a #[repr(C)] struct of integers and integer arrays (generated from
// the object's BTF), for which every bit pattern is a valid value.
unsafe impl KernelRecord for tcp_close_record {}

/// The record's `kind` byte for a live-connection snapshot.
const SNAPSHOT_KIND: u8 = tcp_record_kind::TCP_RECORD_SNAPSHOT.0 as u8;

/// The byte of `task` that tells a snapshot from a close: comm never reaches
/// it (at most 16 bytes), so close events always have 0 there.
pub const SNAPSHOT_MARK_INDEX: usize = 127;

/// Its value in snapshot events.
pub const SNAPSHOT_MARK: u8 = 1;

/// Converts one record: time to the Unix epoch, addresses to text.
pub fn convert(sample: &[u8], clock: &WallClock) -> Option<TcpEvent> {
    let record = tcp_close_record::read_from(sample)?;
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
    copy_c_string(&mut event.task, &record.comm.map(|c| c as u8));
    if record.kind == SNAPSHOT_KIND {
        event.task[SNAPSHOT_MARK_INDEX] = SNAPSHOT_MARK as std::ffi::c_char;
    }
    // Byte arrays have alignment 1, so borrowing them in a packed struct is fine.
    format_addr(record.family, &record.saddr, &mut event.SADDR);
    format_addr(record.family, &record.daddr, &mut event.DADDR);
    Some(event)
}
