use std::mem::{offset_of, size_of};
use std::path::PathBuf;

use interceptor_core::abi::CStruct;
use interceptor_core::layout::{check_shared_layouts, struct_layout};

use super::*;

fn header_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../include/tcpEvent.h")
}

/// include/tcpEvent.h is what the Rust definitions render; `./run.sh headers`
/// (UPDATE_HEADERS=1) rewrites it.
#[test]
fn checked_in_header_is_current() {
    let rendered = c_header();
    if std::env::var_os("UPDATE_HEADERS").is_some() {
        std::fs::write(header_path(), &rendered).unwrap();
    }
    let on_disk = std::fs::read_to_string(header_path()).unwrap_or_default();
    assert!(
        on_disk == rendered,
        "include/tcpEvent.h is stale: run ./run.sh headers and commit the result"
    );
}

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

#[test]
fn kernel_record_mirror_matches_the_object() {
    let (members, size) = struct_layout(bpf_object(), "tcp_close_record").unwrap();
    let mirror = vec![
        ("boot_ns", offset_of!(TcpCloseRecord, boot_ns)),
        ("bytes_received", offset_of!(TcpCloseRecord, bytes_received)),
        ("bytes_acked", offset_of!(TcpCloseRecord, bytes_acked)),
        ("data_segs_out", offset_of!(TcpCloseRecord, data_segs_out)),
        ("data_segs_in", offset_of!(TcpCloseRecord, data_segs_in)),
        ("pid", offset_of!(TcpCloseRecord, pid)),
        ("uid", offset_of!(TcpCloseRecord, uid)),
        ("family", offset_of!(TcpCloseRecord, family)),
        ("sport", offset_of!(TcpCloseRecord, sport)),
        ("dport", offset_of!(TcpCloseRecord, dport)),
        ("owner_known", offset_of!(TcpCloseRecord, owner_known)),
        ("kind", offset_of!(TcpCloseRecord, kind)),
        ("comm", offset_of!(TcpCloseRecord, comm)),
        ("saddr", offset_of!(TcpCloseRecord, saddr)),
        ("daddr", offset_of!(TcpCloseRecord, daddr)),
    ];
    let members: Vec<(&str, usize)> = members.iter().map(|(n, o)| (n.as_str(), *o)).collect();
    assert_eq!(members, mirror);
    assert_eq!(size, size_of::<TcpCloseRecord>());
    check_shared_layouts(bpf_object()).unwrap();
    let kinds = interceptor_core::layout::enum_values(bpf_object(), "tcp_record_kind").unwrap();
    assert_eq!(
        kinds,
        vec![
            ("TCP_RECORD_CLOSE".to_owned(), i64::from(kind::CLOSE)),
            ("TCP_RECORD_SNAPSHOT".to_owned(), i64::from(kind::SNAPSHOT)),
        ]
    );
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
    let mut record = TcpCloseRecord {
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
        kind: record::kind::CLOSE,
        comm: [0; 16],
        saddr: [0; 16],
        daddr: [0; 16],
    };
    record.comm[..6].copy_from_slice(b"tcpcli");
    record.saddr = "::ffff:127.0.0.1".parse::<std::net::Ipv6Addr>().unwrap().octets();
    record.daddr = "::1".parse::<std::net::Ipv6Addr>().unwrap().octets();
    let mut bytes = vec![0xAAu8];
    // SAFETY: a repr(C) integer struct viewed as bytes, for building a sample.
    bytes.extend_from_slice(unsafe {
        std::slice::from_raw_parts((&raw const record).cast::<u8>(), size_of::<TcpCloseRecord>())
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
