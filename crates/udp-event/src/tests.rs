use std::mem::{offset_of, size_of};
use std::path::PathBuf;

use interceptor_core::abi::CStruct;
use interceptor_core::layout::{check_shared_layouts, enum_values, struct_layout};

use super::*;

fn header_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../include/udpEvent.h")
}

/// include/udpEvent.h is what the Rust definitions render; `./run.sh headers`
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
        "include/udpEvent.h is stale: run ./run.sh headers and commit the result"
    );
}

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

#[test]
fn kernel_record_mirror_matches_the_object() {
    let (members, size) = struct_layout(bpf_object(), "udp_record").unwrap();
    let mirror = vec![
        ("boot_ns", offset_of!(UdpRecord, boot_ns)),
        ("tx_bytes", offset_of!(UdpRecord, tx_bytes)),
        ("rx_bytes", offset_of!(UdpRecord, rx_bytes)),
        ("tx_packets", offset_of!(UdpRecord, tx_packets)),
        ("rx_packets", offset_of!(UdpRecord, rx_packets)),
        ("pid", offset_of!(UdpRecord, pid)),
        ("uid", offset_of!(UdpRecord, uid)),
        ("family", offset_of!(UdpRecord, family)),
        ("sport", offset_of!(UdpRecord, sport)),
        ("dport", offset_of!(UdpRecord, dport)),
        ("kind", offset_of!(UdpRecord, kind)),
        ("reserved", offset_of!(UdpRecord, reserved)),
        ("comm", offset_of!(UdpRecord, comm)),
        ("saddr", offset_of!(UdpRecord, saddr)),
        ("daddr", offset_of!(UdpRecord, daddr)),
    ];
    let members: Vec<(&str, usize)> = members.iter().map(|(n, o)| (n.as_str(), *o)).collect();
    assert_eq!(members, mirror);
    assert_eq!(size, size_of::<UdpRecord>());
    let kinds = enum_values(bpf_object(), "udp_record_kind").unwrap();
    assert_eq!(
        kinds,
        vec![
            ("UDP_RECORD_SEND".to_owned(), i64::from(kind::SEND)),
            ("UDP_RECORD_RECV".to_owned(), i64::from(kind::RECV)),
            ("UDP_RECORD_CLOSE".to_owned(), i64::from(kind::CLOSE)),
            ("UDP_RECORD_FLUSH".to_owned(), i64::from(kind::FLUSH)),
        ]
    );
    let (config, config_size) = struct_layout(bpf_object(), "udp_config").unwrap();
    assert_eq!((config, config_size), (vec![("coalesce_ns".to_owned(), 0)], 8));
    check_shared_layouts(bpf_object()).unwrap();
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
    let mut record = UdpRecord {
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
        kind: kind::SEND,
        reserved: 0,
        comm: [0; 16],
        saddr: [0; 16],
        daddr: [0; 16],
    };
    record.comm.copy_from_slice(b"fifteen-chars-x\0");
    record.saddr[..4].copy_from_slice(&[127, 0, 0, 1]);
    record.daddr[..4].copy_from_slice(&[127, 0, 0, 2]);
    let mut bytes = vec![0x55u8];
    // SAFETY: a repr(C) integer struct viewed as bytes, for building a sample.
    bytes.extend_from_slice(unsafe {
        std::slice::from_raw_parts((&raw const record).cast::<u8>(), size_of::<UdpRecord>())
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
}

#[test]
fn coalescing_variable() {
    assert_eq!(coalesce_interval(None), Ok(None));
    assert_eq!(coalesce_interval(Some("0")), Ok(None));
    assert_eq!(coalesce_interval(Some("250")), Ok(Some(Duration::from_millis(250))));
    assert_eq!(
        coalesce_interval(Some("soon")),
        Err(
            "EBPF_INTERCEPTOR_UDP_COALESCE_MS=soon is not a flush interval; use milliseconds from 0 (off) to 3600000"
                .into()
        )
    );
}
