//! An event as named fields, in one documented order: the keys of `-o json`
//! and the columns of `-o csv` (README "Output: JSON and CSV").

use std::net::{IpAddr, SocketAddr};

use ebpf_interceptor::{Event, Role, TcpEvent, TcpEventKind, UdpEvent, UdpEventKind};

use crate::errno;
use crate::time_text::{rfc3339_nanos, unix_nanos};

/// Which events carry a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Both,
    Tcp,
    Udp,
}

/// Every field, in output order.
pub const KEYS: &[(&str, Scope)] = &[
    ("time", Scope::Both),
    ("time_unix_nano", Scope::Both),
    ("protocol", Scope::Both),
    ("kind", Scope::Both),
    ("pid", Scope::Both),
    ("uid", Scope::Both),
    ("comm", Scope::Both),
    ("family", Scope::Both),
    ("local_addr", Scope::Both),
    ("local_port", Scope::Both),
    ("remote_addr", Scope::Both),
    ("remote_port", Scope::Both),
    ("rx_bytes", Scope::Both),
    ("tx_bytes", Scope::Both),
    ("role", Scope::Tcp),
    ("duration_ns", Scope::Tcp),
    ("connect_time_ns", Scope::Tcp),
    ("srtt_us", Scope::Tcp),
    ("rttvar_us", Scope::Tcp),
    ("min_rtt_us", Scope::Tcp),
    ("retransmits", Scope::Tcp),
    ("lost", Scope::Tcp),
    ("data_segs_in", Scope::Tcp),
    ("data_segs_out", Scope::Tcp),
    ("segs_in", Scope::Tcp),
    ("segs_out", Scope::Tcp),
    ("bytes_sent", Scope::Tcp),
    ("bytes_retransmitted", Scope::Tcp),
    ("error", Scope::Tcp),
    ("errno", Scope::Tcp),
    ("rx_datagrams", Scope::Udp),
    ("tx_datagrams", Scope::Udp),
    ("rx_drops", Scope::Udp),
    ("netns", Scope::Both),
    ("cgroup_id", Scope::Both),
    ("cookie", Scope::Both),
];

/// A field's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Number(u64),
    Text(String),
    /// Not known for this event (JSON null, an empty CSV cell).
    Absent,
}

/// The keys an output of these protocols has, in order.
pub fn keys_for(tcp: bool, udp: bool) -> Vec<&'static str> {
    KEYS.iter()
        .filter(|(_, scope)| match scope {
            Scope::Both => true,
            Scope::Tcp => tcp,
            Scope::Udp => udp,
        })
        .map(|(key, _)| *key)
        .collect()
}

/// `"tcp"` or `"udp"`.
pub fn protocol(event: &Event) -> &'static str {
    match event {
        Event::Tcp(_) => "tcp",
        Event::Udp(_) => "udp",
    }
}

/// The event's kind as its fields name it.
pub fn kind(event: &Event) -> &'static str {
    match event {
        Event::Tcp(e) => match e.kind {
            TcpEventKind::Close => "close",
            TcpEventKind::Snapshot => "snapshot",
            TcpEventKind::FailedConnect => "failed_connect",
        },
        Event::Udp(e) => match e.kind {
            UdpEventKind::Send => "send",
            UdpEventKind::Receive => "receive",
            UdpEventKind::Close => "close",
        },
    }
}

/// `"active"`, `"passive"` or `"unknown"` (opened before tracing began).
pub fn role(role: Role) -> &'static str {
    match role {
        Role::Active => "active",
        Role::Passive => "passive",
        Role::Unknown => "unknown",
    }
}

/// 4 or 6: the socket's own family.
pub fn family(family: u16) -> u64 {
    if family == 2 { 4 } else { 6 }
}

fn number(n: impl Into<u64>) -> Value {
    Value::Number(n.into())
}

fn nanos(d: std::time::Duration) -> Value {
    Value::Number(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn micros(d: std::time::Duration) -> Value {
    Value::Number(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn address(ip: IpAddr) -> Value {
    Value::Text(ip.to_string())
}

fn common(event: &Event, pid: u32, uid: u32, comm: &str, fam: u16, local: SocketAddr) -> Vec<(&'static str, Value)> {
    vec![
        ("time", Value::Text(rfc3339_nanos(event.time()))),
        ("time_unix_nano", Value::Number(unix_nanos(event.time()))),
        ("protocol", Value::Text(protocol(event).into())),
        ("kind", Value::Text(kind(event).into())),
        ("pid", number(pid)),
        ("uid", number(uid)),
        ("comm", Value::Text(comm.to_owned())),
        ("family", Value::Number(family(fam))),
        ("local_addr", address(local.ip())),
        ("local_port", number(local.port())),
    ]
}

fn tcp_fields(event: &Event, e: &TcpEvent) -> Vec<(&'static str, Value)> {
    let mut fields = common(event, e.pid, e.uid, &e.comm, e.family, e.local);
    fields.extend([
        ("remote_addr", address(e.remote.ip())),
        ("remote_port", number(e.remote.port())),
        ("rx_bytes", number(e.rx_bytes)),
        ("tx_bytes", number(e.tx_bytes)),
        ("role", Value::Text(role(e.role).into())),
        ("duration_ns", nanos(e.duration)),
        ("connect_time_ns", e.connect_time.map_or(Value::Absent, nanos)),
        ("srtt_us", micros(e.srtt)),
        ("rttvar_us", micros(e.rttvar)),
        ("min_rtt_us", micros(e.min_rtt)),
        ("retransmits", number(e.total_retransmits)),
        ("lost", number(e.lost)),
        ("data_segs_in", number(e.data_segments_in)),
        ("data_segs_out", number(e.data_segments_out)),
        ("segs_in", number(e.segments_in)),
        ("segs_out", number(e.segments_out)),
        ("bytes_sent", number(e.bytes_sent)),
        ("bytes_retransmitted", number(e.bytes_retransmitted)),
        ("error", e.error.map_or(Value::Absent, |n| Value::Text(errno::name(n)))),
        (
            "errno",
            e.error
                .map_or(Value::Absent, |n| Value::Number(u64::from(n.unsigned_abs()))),
        ),
        ("netns", number(e.netns)),
        ("cgroup_id", number(e.cgroup_id)),
        ("cookie", number(e.cookie)),
    ]);
    fields
}

fn udp_fields(event: &Event, e: &UdpEvent) -> Vec<(&'static str, Value)> {
    let mut fields = common(event, e.pid, e.uid, &e.comm, e.family, e.local);
    fields.extend([
        ("remote_addr", e.remote.map_or(Value::Absent, |r| address(r.ip()))),
        ("remote_port", e.remote.map_or(Value::Absent, |r| number(r.port()))),
        ("rx_bytes", number(e.rx_bytes)),
        ("tx_bytes", number(e.tx_bytes)),
        ("rx_datagrams", number(e.rx_datagrams)),
        ("tx_datagrams", number(e.tx_datagrams)),
        ("rx_drops", number(e.rx_drops)),
        ("netns", number(e.netns)),
        ("cgroup_id", number(e.cgroup_id)),
        ("cookie", number(e.cookie)),
    ]);
    fields
}

/// The event's fields, in [`KEYS`] order (those of its protocol).
pub fn fields(event: &Event) -> Vec<(&'static str, Value)> {
    match event {
        Event::Tcp(e) => tcp_fields(event, e),
        Event::Udp(e) => udp_fields(event, e),
    }
}

#[cfg(test)]
pub mod samples {
    //! Events with known values, for the output tests.
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    pub fn tcp() -> Event {
        Event::Tcp(TcpEvent {
            kind: TcpEventKind::Close,
            time: UNIX_EPOCH + Duration::from_nanos(1_733_065_883_123_456_789),
            pid: 4242,
            uid: 65534,
            comm: "tcpcli".into(),
            family: 2,
            local: "127.0.0.1:40000".parse().unwrap(),
            remote: "127.0.0.1:8080".parse().unwrap(),
            rx_bytes: 2001,
            tx_bytes: 1002,
            data_segments_out: 1,
            data_segments_in: 1,
            srtt: Duration::from_micros(52),
            rttvar: Duration::from_micros(26),
            min_rtt: Duration::from_micros(11),
            total_retransmits: 0,
            lost: 0,
            segments_out: 4,
            segments_in: 4,
            role: Role::Active,
            bytes_sent: 1000,
            bytes_retransmitted: 0,
            duration: Duration::from_micros(1500),
            connect_time: Some(Duration::from_micros(40)),
            error: None,
            netns: 4_026_531_840,
            cgroup_id: 1,
            cookie: 77,
        })
    }

    pub fn udp() -> Event {
        Event::Udp(UdpEvent {
            kind: UdpEventKind::Receive,
            time: UNIX_EPOCH + Duration::from_nanos(1_733_065_883_000_000_001),
            pid: 7,
            uid: 0,
            comm: "a,\"b\"".into(),
            family: 10,
            local: "[::1]:5353".parse().unwrap(),
            remote: None,
            rx_bytes: 300,
            tx_bytes: 0,
            rx_datagrams: 3,
            tx_datagrams: 0,
            cgroup_id: 9,
            cookie: 78,
            netns: 4_026_531_840,
            rx_drops: 2,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_follow_the_documented_order() {
        for (event, tcp, udp) in [(samples::tcp(), true, false), (samples::udp(), false, true)] {
            let names: Vec<&str> = fields(&event).into_iter().map(|(k, _)| k).collect();
            assert_eq!(names, keys_for(tcp, udp));
        }
        assert_eq!(keys_for(true, true).len(), KEYS.len());
    }
}
