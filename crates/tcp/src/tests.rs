use std::mem::size_of;

use super::*;
use crate::skel::types::{tcp_close_record, tcp_record_kind};

#[test]
fn event_layout_is_the_originals() {
    let fields: Vec<(&str, usize)> = TcpEvent::fields().iter().map(|f| (f.name, f.offset)).collect();
    assert_eq!(
        fields,
        vec![
            ("EventTime", 0),
            ("pid", 8),
            ("UserId", 12),
            ("rx_b", 16),
            ("tx_b", 24),
            ("tcpi_segs_out", 32),
            ("tcpi_segs_in", 36),
            ("family", 40),
            ("SPT", 42),
            ("DPT", 44),
            ("task", 46),
            ("SADDR", 174),
            ("DADDR", 302),
        ]
    );
    assert_eq!(size_of::<TcpEvent>(), 430);
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
    let mut record = tcp_close_record {
        boot_ns: 5_000_000_000,
        bytes_received: 2001,
        bytes_acked: 1002,
        data_segs_out: 1,
        data_segs_in: 2,
        pid: 4242,
        uid: 65534,
        family: 10,
        sport: 40000,
        dport: 7001,
        owner_known: 1,
        kind: tcp_record_kind::TCP_RECORD_CLOSE.0 as u8,
        ..tcp_close_record::default()
    };
    for (slot, byte) in record.comm.iter_mut().zip(b"tcpcli") {
        *slot = *byte as i8;
    }
    record.saddr = "::ffff:127.0.0.1".parse::<std::net::Ipv6Addr>().unwrap().octets();
    record.daddr = "::1".parse::<std::net::Ipv6Addr>().unwrap().octets();
    let mut bytes = vec![0xAAu8];
    // SAFETY: a repr(C) integer struct viewed as bytes, for building a sample.
    bytes.extend_from_slice(unsafe {
        std::slice::from_raw_parts((&raw const record).cast::<u8>(), size_of::<tcp_close_record>())
    });
    let clock = WallClock::new();
    let event = record::convert(&bytes[1..], &clock).unwrap();
    let e = event;
    assert_eq!(
        (
            e.pid,
            e.UserId,
            e.rx_b,
            e.tx_b,
            e.tcpi_segs_out,
            e.tcpi_segs_in,
            e.family,
            e.SPT,
            e.DPT
        ),
        (4242, 65534, 2001, 1002, 1, 2, 10, 40000, 7001)
    );
    let event_time = e.EventTime;
    assert_eq!(event_time, clock.epoch_ns(5_000_000_000));
    assert_eq!(c_str(&e.task), "tcpcli");
    assert_eq!(c_str(&e.SADDR), "::ffff:127.0.0.1");
    assert_eq!(c_str(&e.DADDR), "::1");
    assert!(record::convert(&bytes[1..40], &clock).is_none());
}
