//! Address text exactly as the original libraries printed it: glibc's
//! `inet_ntop`. Rust's `Ipv6Addr` display differs for IPv4-compatible
//! addresses (`::10.0.0.1`, which glibc prints with a dotted tail), so this
//! follows glibc's algorithm instead, without allocating.

use std::ffi::c_char;
use std::fmt::Write as _;

/// `AF_INET`.
pub const AF_INET: u16 = 2;
/// `AF_INET6`.
pub const AF_INET6: u16 = 10;

/// A fixed-capacity text buffer (INET6_ADDRSTRLEN is 46).
struct AddrText {
    bytes: [u8; 64],
    len: usize,
}

impl std::fmt::Write for AddrText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let room = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

fn write_ipv4(out: &mut AddrText, octets: &[u8]) {
    let _ = write!(out, "{}.{}.{}.{}", octets[0], octets[1], octets[2], octets[3]);
}

fn write_ipv6(out: &mut AddrText, addr: &[u8; 16]) {
    let words: [u16; 8] = std::array::from_fn(|i| u16::from_be_bytes([addr[2 * i], addr[2 * i + 1]]));
    // Longest run of zero words, leftmost on ties; runs of one are not compressed.
    let (mut best_start, mut best_len) = (usize::MAX, 0);
    let mut i = 0;
    while i < 8 {
        if words[i] == 0 {
            let start = i;
            while i < 8 && words[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                (best_start, best_len) = (start, i - start);
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best_start = usize::MAX;
    }
    let mut i = 0;
    while i < 8 {
        if i == best_start {
            out.write_str(":").ok();
            i += best_len;
            if i == 8 {
                out.write_str(":").ok();
            }
            continue;
        }
        if i != 0 {
            out.write_str(":").ok();
        }
        // glibc: an IPv4-compatible (::a.b.c.d) or IPv4-mapped (::ffff:a.b.c.d)
        // address ends in dotted quad.
        if i == 6 && best_start == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)) {
            write_ipv4(out, &addr[12..16]);
            return;
        }
        let _ = write!(out, "{:x}", words[i]);
        i += 1;
    }
}

/// Writes the text form of an address into a fixed C string field. `addr`
/// is in network byte order; IPv4 uses its first 4 bytes. An unknown family
/// leaves the field empty.
pub fn format_addr(family: u16, addr: &[u8; 16], field: &mut [c_char]) {
    let mut text = AddrText { bytes: [0; 64], len: 0 };
    match family {
        AF_INET => write_ipv4(&mut text, &addr[..4]),
        AF_INET6 => write_ipv6(&mut text, addr),
        _ => {}
    }
    crate::abi::copy_c_string(field, &text.bytes[..text.len]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn text(family: u16, addr: [u8; 16]) -> String {
        let mut field = [0 as c_char; 128];
        format_addr(family, &addr, &mut field);
        let bytes: Vec<u8> = field.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        String::from_utf8(bytes).unwrap_or_default()
    }

    fn v6(s: &str) -> [u8; 16] {
        s.parse::<Ipv6Addr>().map(|a| a.octets()).unwrap_or_default()
    }

    #[test]
    fn ipv4_dotted_quad() {
        let mut addr = [0u8; 16];
        addr[..4].copy_from_slice(&Ipv4Addr::new(127, 0, 0, 1).octets());
        assert_eq!(text(AF_INET, addr), "127.0.0.1");
        assert_eq!(text(AF_INET, [0; 16]), "0.0.0.0");
    }

    #[test]
    fn ipv6_matches_glibc() {
        // Expected strings are glibc 2.36 inet_ntop output.
        for (input, expected) in [
            ("::", "::"),
            ("::1", "::1"),
            ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
            ("::10.0.0.1", "::10.0.0.1"),
            ("::2", "::2"),
            ("fe80::1", "fe80::1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("2001:db8::1:0:0:1", "2001:db8::1:0:0:1"),
            ("2001:0:0:1::1", "2001:0:0:1::1"),
            ("1::", "1::"),
            (
                "2001:aaa:fff:eee:ccc:a627:f45f:9c0c",
                "2001:aaa:fff:eee:ccc:a627:f45f:9c0c",
            ),
        ] {
            assert_eq!(text(AF_INET6, v6(input)), expected, "{input}");
        }
    }

    #[test]
    fn unknown_family_is_empty() {
        assert_eq!(text(1, [1; 16]), "");
    }
}
