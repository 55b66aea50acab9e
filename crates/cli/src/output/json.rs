//! `-o json`: one object per line, every field of the event's protocol
//! under its documented key (`fields::KEYS`), numbers as JSON numbers,
//! unknown values as null.

use ebpf_interceptor::Event;

use crate::fields::{Value, fields};

/// A JSON string literal (quotes and escapes included).
pub fn escape(text: &str) -> String {
    // Serializing a &str cannot fail; the fallback keeps the output valid.
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The event as one line of JSON.
pub fn object(event: &Event) -> String {
    let mut line = String::with_capacity(640);
    line.push('{');
    for (i, (key, value)) in fields(event).into_iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push('"');
        line.push_str(key);
        line.push_str("\":");
        match value {
            Value::Number(n) => line.push_str(&n.to_string()),
            Value::Text(text) => line.push_str(&escape(&text)),
            Value::Absent => line.push_str("null"),
        }
    }
    line.push('}');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::samples;

    #[test]
    fn tcp_object() {
        let value: serde_json::Value = serde_json::from_str(&object(&samples::tcp())).unwrap();
        assert_eq!(value["time"], "2024-12-01T15:11:23.123456789Z");
        assert_eq!(value["time_unix_nano"], 1_733_065_883_123_456_789u64);
        assert_eq!(value["protocol"], "tcp");
        assert_eq!(value["kind"], "close");
        assert_eq!(value["pid"], 4242);
        assert_eq!(value["comm"], "tcpcli");
        assert_eq!(value["family"], 4);
        assert_eq!(value["local_addr"], "127.0.0.1");
        assert_eq!(value["remote_port"], 8080);
        assert_eq!(
            (value["rx_bytes"].as_u64(), value["tx_bytes"].as_u64()),
            (Some(2001), Some(1002))
        );
        assert_eq!(value["role"], "active");
        assert_eq!(value["connect_time_ns"], 40_000);
        assert_eq!(value["error"], serde_json::Value::Null);
        assert!(value.get("rx_drops").is_none());
    }

    #[test]
    fn udp_object_escapes_and_nulls() {
        let line = object(&samples::udp());
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["comm"], "a,\"b\"");
        assert_eq!(value["remote_addr"], serde_json::Value::Null);
        assert_eq!(value["local_addr"], "::1");
        assert_eq!(value["family"], 6);
        assert_eq!(value["rx_drops"], 2);
        assert!(value.get("srtt_us").is_none());
    }
}
