//! Events as an OTLP/HTTP JSON `ExportLogsServiceRequest` (the protobuf
//! JSON mapping: lowerCamelCase keys, 64-bit integers and the timestamps
//! as decimal strings). Attribute names: OpenTelemetry semantic
//! conventions where one exists, `ebpf_interceptor.*` for the rest
//! (README "OTLP export" lists them).

use std::fmt::Write as _;
use std::time::SystemTime;

use ebpf_interceptor::{Event, TcpEvent, UdpEvent};

use crate::errno;
use crate::fields::{family, kind, protocol, role};
use crate::output::json_string;
use crate::time_text::unix_nanos;

/// The scope (instrumentation library) of every record.
pub const SCOPE_NAME: &str = "ebpf-interceptor";
/// `service.name`.
pub const SERVICE_NAME: &str = "ebpf-interceptor";
/// OTLP severity numbers.
const SEVERITY_INFO: u8 = 9;
const SEVERITY_WARN: u8 = 13;

/// An event and when this program took it (observedTimeUnixNano).
#[derive(Debug, Clone)]
pub struct Record {
    pub event: Event,
    pub observed: SystemTime,
}

/// Attributes of one record, written as OTLP JSON `KeyValue`s.
struct Attributes(String);

impl Attributes {
    fn key(&mut self, key: &str) {
        if !self.0.is_empty() {
            self.0.push(',');
        }
        let _ = write!(self.0, "{{\"key\":{},\"value\":", json_string(key));
    }

    fn text(&mut self, key: &str, value: &str) {
        self.key(key);
        let _ = write!(self.0, "{{\"stringValue\":{}}}}}", json_string(value));
    }

    /// An int64 attribute; values above i64::MAX (which the kernel does not
    /// produce for these fields) keep their bits, as protobuf's int64 would.
    fn int(&mut self, key: &str, value: impl Into<u64>) {
        self.key(key);
        let _ = write!(self.0, "{{\"intValue\":\"{}\"}}}}", value.into() as i64);
    }

    fn duration_ns(&mut self, key: &str, value: std::time::Duration) {
        self.int(key, u64::try_from(value.as_nanos()).unwrap_or(u64::MAX));
    }

    fn duration_us(&mut self, key: &str, value: std::time::Duration) {
        self.int(key, u64::try_from(value.as_micros()).unwrap_or(u64::MAX));
    }
}

fn common(attrs: &mut Attributes, event: &Event, pid: u32, uid: u32, comm: &str, fam: u16) {
    attrs.int("process.pid", pid);
    attrs.text("process.command", comm);
    attrs.text("user.id", &uid.to_string());
    attrs.int("process.real_user.id", uid);
    attrs.text("network.transport", protocol(event));
    attrs.text("network.type", if family(fam) == 4 { "ipv4" } else { "ipv6" });
    attrs.text("ebpf_interceptor.kind", kind(event));
}

fn tcp(attrs: &mut Attributes, event: &Event, e: &TcpEvent) {
    common(attrs, event, e.pid, e.uid, &e.comm, e.family);
    attrs.text("network.local.address", &e.local.ip().to_string());
    attrs.int("network.local.port", e.local.port());
    attrs.text("network.peer.address", &e.remote.ip().to_string());
    attrs.int("network.peer.port", e.remote.port());
    if let Some(error) = e.error {
        attrs.text("error.type", &errno::name(error));
        attrs.int("ebpf_interceptor.errno", error.unsigned_abs());
    }
    attrs.int("ebpf_interceptor.rx_bytes", e.rx_bytes);
    attrs.int("ebpf_interceptor.tx_bytes", e.tx_bytes);
    attrs.text("ebpf_interceptor.role", role(e.role));
    attrs.duration_ns("ebpf_interceptor.duration_ns", e.duration);
    if let Some(connect) = e.connect_time {
        attrs.duration_ns("ebpf_interceptor.connect_time_ns", connect);
    }
    attrs.duration_us("ebpf_interceptor.srtt_us", e.srtt);
    attrs.duration_us("ebpf_interceptor.rttvar_us", e.rttvar);
    attrs.duration_us("ebpf_interceptor.min_rtt_us", e.min_rtt);
    attrs.int("ebpf_interceptor.retransmits", e.total_retransmits);
    attrs.int("ebpf_interceptor.lost", e.lost);
    attrs.int("ebpf_interceptor.data_segs_in", e.data_segments_in);
    attrs.int("ebpf_interceptor.data_segs_out", e.data_segments_out);
    attrs.int("ebpf_interceptor.segs_in", e.segments_in);
    attrs.int("ebpf_interceptor.segs_out", e.segments_out);
    attrs.int("ebpf_interceptor.bytes_sent", e.bytes_sent);
    attrs.int("ebpf_interceptor.bytes_retransmitted", e.bytes_retransmitted);
    identity(attrs, e.netns, e.cgroup_id, e.cookie);
}

fn udp(attrs: &mut Attributes, event: &Event, e: &UdpEvent) {
    common(attrs, event, e.pid, e.uid, &e.comm, e.family);
    attrs.text("network.local.address", &e.local.ip().to_string());
    attrs.int("network.local.port", e.local.port());
    if let Some(remote) = e.remote {
        attrs.text("network.peer.address", &remote.ip().to_string());
        attrs.int("network.peer.port", remote.port());
    }
    attrs.int("ebpf_interceptor.rx_bytes", e.rx_bytes);
    attrs.int("ebpf_interceptor.tx_bytes", e.tx_bytes);
    attrs.int("ebpf_interceptor.rx_datagrams", e.rx_datagrams);
    attrs.int("ebpf_interceptor.tx_datagrams", e.tx_datagrams);
    attrs.int("ebpf_interceptor.rx_drops", e.rx_drops);
    identity(attrs, e.netns, e.cgroup_id, e.cookie);
}

fn identity(attrs: &mut Attributes, netns: u32, cgroup_id: u64, cookie: u64) {
    attrs.int("ebpf_interceptor.netns", netns);
    attrs.int("ebpf_interceptor.cgroup_id", cgroup_id);
    attrs.int("ebpf_interceptor.cookie", cookie);
}

/// The record's body: the event in one line, for people reading logs.
fn body(event: &Event) -> String {
    match event {
        Event::Tcp(e) => format!(
            "tcp {} {} -> {} pid {} ({}) rx {} tx {}",
            kind(event),
            e.local,
            e.remote,
            e.pid,
            e.comm,
            e.rx_bytes,
            e.tx_bytes
        ),
        Event::Udp(e) => format!(
            "udp {} {} -> {} pid {} ({}) rx {} tx {}",
            kind(event),
            e.local,
            e.remote.map_or_else(|| "unknown".to_owned(), |r| r.to_string()),
            e.pid,
            e.comm,
            e.rx_bytes,
            e.tx_bytes
        ),
    }
}

/// One `LogRecord`.
fn log_record(out: &mut String, record: &Record) {
    let event = &record.event;
    let mut attrs = Attributes(String::with_capacity(1536));
    match event {
        Event::Tcp(e) => tcp(&mut attrs, event, e),
        Event::Udp(e) => udp(&mut attrs, event, e),
    }
    let warn = matches!(event, Event::Tcp(e) if e.error.is_some());
    let _ = write!(
        out,
        "{{\"timeUnixNano\":\"{}\",\"observedTimeUnixNano\":\"{}\",\"severityNumber\":{},\"severityText\":\"{}\",\"body\":{{\"stringValue\":{}}},\"attributes\":[{}]}}",
        unix_nanos(event.time()),
        unix_nanos(record.observed),
        if warn { SEVERITY_WARN } else { SEVERITY_INFO },
        if warn { "WARN" } else { "INFO" },
        json_string(&body(event)),
        attrs.0
    );
}

/// The request body for a batch of records from host `host_name`.
pub fn request(host_name: &str, records: &[Record]) -> String {
    let mut out = String::with_capacity(256 + records.len() * 2048);
    let _ = write!(
        out,
        "{{\"resourceLogs\":[{{\"resource\":{{\"attributes\":[\
{{\"key\":\"host.name\",\"value\":{{\"stringValue\":{}}}}},\
{{\"key\":\"service.name\",\"value\":{{\"stringValue\":{}}}}}]}},\
\"scopeLogs\":[{{\"scope\":{{\"name\":{},\"version\":{}}},\"logRecords\":[",
        json_string(host_name),
        json_string(SERVICE_NAME),
        json_string(SCOPE_NAME),
        json_string(env!("CARGO_PKG_VERSION"))
    );
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        log_record(&mut out, record);
    }
    out.push_str("]}]}]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::samples;
    use std::time::{Duration, UNIX_EPOCH};

    fn attribute<'a>(record: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
        record["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|kv| kv["key"] == key)
            .map_or(&serde_json::Value::Null, |kv| &kv["value"])
    }

    #[test]
    fn a_request_has_resource_scope_and_typed_attributes() {
        let observed = UNIX_EPOCH + Duration::from_nanos(1_733_065_884_000_000_000);
        let records = [
            Record {
                event: samples::tcp(),
                observed,
            },
            Record {
                event: samples::udp(),
                observed,
            },
        ];
        let body = request("web-1", &records);
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        let resource = &value["resourceLogs"][0]["resource"]["attributes"];
        assert_eq!(resource[0]["key"], "host.name");
        assert_eq!(resource[0]["value"]["stringValue"], "web-1");
        assert_eq!(resource[1]["value"]["stringValue"], "ebpf-interceptor");
        let logs = &value["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
        let tcp = &logs[0];
        assert_eq!(tcp["timeUnixNano"], "1733065883123456789");
        assert_eq!(tcp["observedTimeUnixNano"], "1733065884000000000");
        assert_eq!(tcp["severityNumber"], 9);
        assert_eq!(attribute(tcp, "process.pid")["intValue"], "4242");
        assert_eq!(attribute(tcp, "process.command")["stringValue"], "tcpcli");
        assert_eq!(attribute(tcp, "user.id")["stringValue"], "65534");
        assert_eq!(attribute(tcp, "network.transport")["stringValue"], "tcp");
        assert_eq!(attribute(tcp, "network.type")["stringValue"], "ipv4");
        assert_eq!(attribute(tcp, "network.peer.port")["intValue"], "8080");
        assert_eq!(attribute(tcp, "ebpf_interceptor.rx_bytes")["intValue"], "2001");
        assert_eq!(attribute(tcp, "ebpf_interceptor.role")["stringValue"], "active");
        assert_eq!(attribute(tcp, "error.type"), &serde_json::Value::Null);
        let udp = &logs[1];
        assert_eq!(attribute(udp, "network.type")["stringValue"], "ipv6");
        assert_eq!(attribute(udp, "network.peer.address"), &serde_json::Value::Null);
        assert_eq!(attribute(udp, "ebpf_interceptor.rx_drops")["intValue"], "2");
        assert_eq!(attribute(udp, "process.command")["stringValue"], "a,\"b\"");
    }
}
