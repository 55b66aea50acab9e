use std::ffi::c_char;
use std::mem::size_of;

use super::*;
use crate::skel::types::{udp_record, udp_record_kind};

/// The original's packed layout (the seed docs print it unpacked).
#[test]
fn event_layout_is_the_originals() {
    let fields: Vec<(&str, usize)> = UdpEvent::fields().iter().map(|f| (f.name, f.offset)).collect();
    assert_eq!(
        fields,
        vec![
            ("family", 0),
            ("pid", 2),
            ("UserId", 6),
            ("EventTime", 10),
            ("SPT", 18),
            ("DPT", 20),
            ("task", 22),
            ("rx_b", 38),
            ("tx_b", 46),
            ("rxPkts", 54),
            ("txPkts", 58),
            ("SADDR", 62),
            ("DADDR", 126),
        ]
    );
    assert_eq!(size_of::<UdpEvent>(), 190);
}

fn c_str(field: &[c_char]) -> String {
    field
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8 as char)
        .collect()
}

#[test]
fn conversion_fills_every_field() {
    let mut record = udp_record {
        boot_ns: 7_000_000_000,
        tx_bytes: 300,
        rx_bytes: 200,
        tx_packets: 3,
        rx_packets: 1,
        pid: 4242,
        uid: 65534,
        family: 2,
        sport: 40000,
        dport: 7101,
        kind: udp_record_kind::UDP_RECORD_FLUSH.0 as u8,
        last_op: udp_record_kind::UDP_RECORD_RECV.0 as u8,
        cgroup_id: 77,
        cookie: 0x1234,
        netns: 4026531840,
        rx_drops: 5,
        ..udp_record::default()
    };
    for (slot, byte) in record.comm.iter_mut().zip(b"fifteen-chars-x\0") {
        *slot = *byte as i8;
    }
    record.saddr[..4].copy_from_slice(&[127, 0, 0, 1]);
    record.daddr[..4].copy_from_slice(&[127, 0, 0, 2]);
    let mut bytes = vec![0x55u8];
    // SAFETY: a repr(C) integer struct viewed as bytes, for building a sample.
    bytes.extend_from_slice(unsafe {
        std::slice::from_raw_parts((&raw const record).cast::<u8>(), size_of::<udp_record>())
    });
    let clock = WallClock::new();
    let e = record::convert(&bytes[1..], &clock).unwrap();
    assert_eq!(
        (
            e.family, e.pid, e.UserId, e.SPT, e.DPT, e.rx_b, e.tx_b, e.rxPkts, e.txPkts
        ),
        (2, 4242, 65534, 40000, 7101, 200, 300, 1, 3)
    );
    let event_time = e.EventTime;
    assert_eq!(event_time, clock.epoch_ns(7_000_000_000));
    assert_eq!(c_str(&e.task), "fifteen-chars-x");
    assert_eq!(
        (c_str(&e.SADDR), c_str(&e.DADDR)),
        ("127.0.0.1".into(), "127.0.0.2".into())
    );
    // A coalesced report says the kind of the last call it folds in.
    assert_eq!((e.kind, e.size), (kind::RECEIVE, 224));
    assert_eq!(
        (e.cgroup_id, e.cookie, e.netns_ino, e.rx_drops),
        (77, 0x1234, 4026531840, 5)
    );
    assert_eq!(e.daddr_raw[..4], [127, 0, 0, 2]);
    let original = original(&e);
    let (rx, tx, rxp, txp) = (original.rx_b, original.tx_b, original.rxPkts, original.txPkts);
    assert_eq!((rx, tx, rxp, txp), (200, 300, 1, 3));
    assert_eq!(c_str(&original.task), "fifteen-chars-x");
    assert_eq!(c_str(&original.DADDR), "127.0.0.2");
}

/// The extended event's layout: natural alignment, fields only appended.
#[test]
fn extended_event_layout() {
    let fields: Vec<(&str, usize)> = UdpEventEx::fields().iter().map(|f| (f.name, f.offset)).collect();
    assert_eq!(
        fields,
        vec![
            ("size", 0),
            ("kind", 4),
            ("EventTime", 8),
            ("pid", 16),
            ("UserId", 20),
            ("rx_b", 24),
            ("tx_b", 32),
            ("rxPkts", 40),
            ("txPkts", 44),
            ("family", 48),
            ("SPT", 50),
            ("DPT", 52),
            ("reserved", 54),
            ("task", 56),
            ("SADDR", 72),
            ("DADDR", 120),
            ("saddr_raw", 168),
            ("daddr_raw", 184),
            ("cgroup_id", 200),
            ("cookie", 208),
            ("netns_ino", 216),
            ("rx_drops", 220),
        ]
    );
    assert_eq!(size_of::<UdpEventEx>(), 224);
}

#[test]
fn coalescing_variable() {
    assert_eq!(coalesce_interval(None), Ok(None));
    assert_eq!(coalesce_interval(Some("0")), Ok(None));
    assert_eq!(coalesce_interval(Some("250")), Ok(Some(Duration::from_millis(250))));
    assert_eq!(
        coalesce_interval(Some("soon")),
        Err(
            "EBPF_INTERCEPTOR_UDP_COALESCE_MS=\"soon\" is not a flush interval; use milliseconds from 0 (off) to 3600000"
                .into()
        )
    );
}
