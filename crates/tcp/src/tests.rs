use std::ffi::c_char;
use std::mem::size_of;

use super::*;
use crate::skel::types::{tcp_close_record, tcp_record_kind, tcp_role};

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

/// The extended event's layout: natural alignment, fields only appended
/// (tests/c/tcp_layout.c checks the header's against these offsets).
#[test]
fn extended_event_layout() {
    let fields: Vec<(&str, usize)> = TcpEventEx::fields().iter().map(|f| (f.name, f.offset)).collect();
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
            ("tcpi_segs_out", 40),
            ("tcpi_segs_in", 44),
            ("family", 48),
            ("SPT", 50),
            ("DPT", 52),
            ("reserved", 54),
            ("task", 56),
            ("SADDR", 72),
            ("DADDR", 120),
            ("saddr_raw", 168),
            ("daddr_raw", 184),
            ("srtt_us", 200),
            ("rttvar_us", 204),
            ("min_rtt_us", 208),
            ("total_retrans", 212),
            ("lost", 216),
            ("segs_out", 220),
            ("segs_in", 224),
            ("role", 228),
            ("bytes_sent", 232),
            ("bytes_retrans", 240),
            ("duration_ns", 248),
            ("connect_ns", 256),
            ("error", 264),
            ("netns_ino", 268),
            ("cgroup_id", 272),
            ("cookie", 280),
        ]
    );
    assert_eq!(size_of::<TcpEventEx>(), 288);
    assert_eq!(std::mem::align_of::<TcpEventEx>(), 8);
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
        kind: tcp_record_kind::TCP_RECORD_SNAPSHOT.0 as u8,
        role: tcp_role::TCP_ROLE_ACTIVE.0 as u8,
        bytes_sent: 1000,
        bytes_retrans: 40,
        first_ns: 4_000_000_000,
        established_ns: 4_000_250_000,
        cgroup_id: 77,
        cookie: 0x1234,
        segs_out: 9,
        segs_in: 8,
        srtt_us: 30,
        rttvar_us: 15,
        min_rtt_us: 10,
        total_retrans: 1,
        lost: 1,
        netns: 4026531840,
        error: 104,
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
    assert_eq!((e.saddr_raw, e.daddr_raw), (record.saddr, record.daddr));
    assert_eq!((e.kind, e.role, e.size), (kind::SNAPSHOT, role::ACTIVE, 288));
    assert_eq!((e.duration_ns, e.connect_ns), (1_000_000_000, 250_000));
    assert_eq!((e.bytes_sent, e.bytes_retrans, e.segs_out, e.segs_in), (1000, 40, 9, 8));
    assert_eq!((e.srtt_us, e.rttvar_us, e.min_rtt_us), (30, 15, 10));
    assert_eq!((e.total_retrans, e.lost, e.error, e.netns_ino), (1, 1, 104, 4026531840));
    assert_eq!((e.cgroup_id, e.cookie), (77, 0x1234));
    assert!(record::convert(&bytes[1..40], &clock).is_none());
    // The original's struct: same meanings, the snapshot marked in task[127].
    let original = original(&e);
    let (rx, tx, pid) = (original.rx_b, original.tx_b, original.pid);
    assert_eq!((rx, tx, pid), (2001, 1002, 4242));
    assert_eq!(c_str(&original.task), "tcpcli");
    assert_eq!(c_str(&original.SADDR), "::ffff:127.0.0.1");
    assert!(is_snapshot(&original));
}

/// The snapshot interval: the original's 6 s unless set; 0 turns snapshots
/// off. (The integration tests check that passes keep the interval, as a
/// lower bound, which is all a loaded machine can show.)
#[test]
fn snapshot_interval_variable() {
    let six = Ok(Some(Duration::from_secs(6)));
    assert_eq!(snapshot_interval(None), six);
    assert_eq!(snapshot_interval(Some("")), six);
    assert_eq!(snapshot_interval(Some(" 6 ")), six);
    assert_eq!(snapshot_interval(Some("0")), Ok(None));
    assert_eq!(snapshot_interval(Some("0.3")), Ok(Some(Duration::from_millis(300))));
    assert!(snapshot_interval(Some("0.01")).is_err());
    assert!(snapshot_interval(Some("often")).is_err());
}
