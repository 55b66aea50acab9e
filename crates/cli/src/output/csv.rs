//! `-o csv`: a header line, then one row per event (RFC 4180 quoting). The
//! columns are `fields::KEYS` for the protocols traced; a cell another
//! protocol's event does not have, or an unknown value, is empty.

use ebpf_interceptor::Event;

use super::Protocols;
use crate::fields::{Value, fields, keys_for};

/// The header line.
pub fn header(protocols: Protocols) -> String {
    keys_for(protocols.tcp, protocols.udp).join(",")
}

fn cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// One event's row.
pub fn row(event: &Event, protocols: Protocols) -> String {
    let mut values = fields(event).into_iter().peekable();
    let mut cells = Vec::new();
    // Both lists follow KEYS' order: walk them together.
    for key in keys_for(protocols.tcp, protocols.udp) {
        let value = match values.peek() {
            Some((k, _)) if *k == key => values.next().map(|(_, v)| v),
            _ => None,
        };
        cells.push(match value {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Text(text)) => cell(&text),
            Some(Value::Absent) | None => String::new(),
        });
    }
    cells.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::samples;

    const BOTH: Protocols = Protocols { tcp: true, udp: true };

    #[test]
    fn rows_line_up_with_the_header() {
        let header: Vec<String> = header(BOTH).split(',').map(str::to_owned).collect();
        let tcp = row(&samples::tcp(), BOTH);
        let cells: Vec<&str> = tcp.split(',').collect();
        assert_eq!(cells.len(), header.len());
        let at = |name: &str| cells[header.iter().position(|h| h == name).unwrap()];
        assert_eq!(
            (at("pid"), at("comm"), at("rx_bytes"), at("tx_bytes")),
            ("4242", "tcpcli", "2001", "1002")
        );
        assert_eq!((at("rx_drops"), at("error")), ("", ""));
        let udp = row(&samples::udp(), BOTH);
        assert!(udp.contains(",\"a,\"\"b\"\"\","), "{udp}");
    }

    #[test]
    fn one_protocol_has_its_columns_only() {
        let tcp_only = Protocols { tcp: true, udp: false };
        assert!(!header(tcp_only).contains("rx_drops"));
        assert_eq!(
            row(&samples::tcp(), tcp_only).split(',').count(),
            header(tcp_only).split(',').count()
        );
    }
}
