//! Address text exactly as the original libraries printed it: glibc's
//! `inet_ntop`. Rust's `Ipv6Addr` display differs for IPv4-compatible
//! addresses (`::10.0.0.1`, which glibc prints with a dotted tail), so this
//! follows glibc's algorithm instead, without allocating.

use std::ffi::c_char;

/// `AF_INET`.
pub const AF_INET: u16 = 2;
/// `AF_INET6`.
pub const AF_INET6: u16 = 10;

/// A fixed-capacity text buffer (INET6_ADDRSTRLEN is 46). Written byte by
/// byte: this runs for two addresses of every event, and `core::fmt` cost
/// several times more than the rest of the conversion (measured).
struct AddrText {
    bytes: [u8; 48],
    len: usize,
}

impl AddrText {
    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    fn push_decimal(&mut self, value: u8) {
        if value >= 100 {
            self.push(b'0' + value / 100);
        }
        if value >= 10 {
            self.push(b'0' + value / 10 % 10);
        }
        self.push(b'0' + value % 10);
    }

    /// Lower-case hex without leading zeros, as inet_ntop prints words.
    fn push_hex(&mut self, value: u16) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut started = false;
        for shift in [12, 8, 4, 0] {
            let nibble = usize::from((value >> shift) & 0xf);
            if nibble != 0 || started || shift == 0 {
                self.push(DIGITS[nibble]);
                started = true;
            }
        }
    }
}

fn write_ipv4(out: &mut AddrText, octets: &[u8]) {
    for (i, &octet) in octets.iter().take(4).enumerate() {
        if i != 0 {
            out.push(b'.');
        }
        out.push_decimal(octet);
    }
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
            out.push(b':');
            i += best_len;
            if i == 8 {
                out.push(b':');
            }
            continue;
        }
        if i != 0 {
            out.push(b':');
        }
        // glibc: an IPv4-compatible (::a.b.c.d) or IPv4-mapped (::ffff:a.b.c.d)
        // address ends in dotted quad.
        if i == 6 && best_start == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)) {
            write_ipv4(out, &addr[12..16]);
            return;
        }
        out.push_hex(words[i]);
        i += 1;
    }
}

/// Writes the text form of an address into a fixed C string field. `addr`
/// is in network byte order; IPv4 uses its first 4 bytes. An unknown family
/// leaves the field empty.
pub fn format_addr(family: u16, addr: &[u8; 16], field: &mut [c_char]) {
    let mut text = AddrText { bytes: [0; 48], len: 0 };
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

    unsafe extern "C" {
        /// glibc's inet_ntop (not bound by the libc crate).
        fn inet_ntop(af: i32, src: *const u8, dst: *mut c_char, size: u32) -> *const c_char;
    }

    /// The text equals glibc's inet_ntop for many generated addresses,
    /// biased towards zero runs (where the algorithms could differ).
    #[test]
    fn agrees_with_glibc_inet_ntop() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut addr = [0u8; 16];
            for (i, word) in addr.chunks_mut(2).enumerate() {
                let bits = (state >> (i * 8)) & 0xff;
                let value: u16 = match bits % 4 {
                    0 | 1 => 0,
                    2 => 0xffff,
                    _ => (bits as u16) << 4 | (i as u16),
                };
                word.copy_from_slice(&value.to_be_bytes());
            }
            let mut expected = [0 as c_char; 64];
            // SAFETY: valid 16-byte source and a 64-byte destination, as sized.
            let ok = unsafe { inet_ntop(libc::AF_INET6, addr.as_ptr(), expected.as_mut_ptr(), 64) };
            assert!(!ok.is_null());
            let expected: String = expected
                .iter()
                .take_while(|&&c| c != 0)
                .map(|&c| c as u8 as char)
                .collect();
            assert_eq!(text(AF_INET6, addr), expected);
            let mut v4 = [0u8; 16];
            v4[..4].copy_from_slice(&addr[12..]);
            assert_eq!(
                text(AF_INET, v4),
                std::net::Ipv4Addr::new(v4[0], v4[1], v4[2], v4[3]).to_string()
            );
        }
    }

    #[test]
    fn unknown_family_is_empty() {
        assert_eq!(text(1, [1; 16]), "");
    }
}
