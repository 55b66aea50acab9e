//! The BCC program texts monitors pass to AddProbe. The text is never
//! compiled (the built-in CO-RE program yields the same events); a text that
//! is not one of the stock programs may have meant to do something else
//! (filter a port, say), so the library says so once.
//!
//! Only fingerprints of the stock texts are kept: FNV-1a (64 bits) of the
//! text with every run of whitespace made one space and the ends trimmed.

/// The stock programs' fingerprints.
const STOCK: [(u64, &str); 3] = [
    (
        0x7210_4118_b5c2_4d18,
        "the original docs' quick-start program (examples/tcp_monitor.c)",
    ),
    (
        0x7032_a9ff_ae80_c4bb,
        "the original repository's test program, tcpEvent/Test/mainer.c",
    ),
    (0xc481_d0f2_d0c3_daf5, "the first version of tcpEvent/Test/mainer.c"),
];

/// The fingerprint of a program text.
pub fn fingerprint(text: &[u8]) -> u64 {
    const WHITESPACE: &[u8] = b" \t\n\r\x0b\x0c";
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |byte: u8| {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    };
    for (i, word) in text
        .split(|b| WHITESPACE.contains(b))
        .filter(|word| !word.is_empty())
        .enumerate()
    {
        if i > 0 {
            feed(b' ');
        }
        word.iter().copied().for_each(&mut feed);
    }
    hash
}

/// Whether `text` is one of the stock programs.
pub fn is_stock(text: &[u8]) -> bool {
    let print = fingerprint(text);
    STOCK.iter().any(|(stock, _)| *stock == print)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick-start text as examples/tcp_monitor.c (from the original
    /// docs) has it, between `R"(` and `)"`.
    fn quick_start() -> String {
        let example = include_str!("../../../examples/tcp_monitor.c");
        let start = example.find("R\"(").map(|i| i + 3).unwrap_or(0);
        let end = example[start..].find(")\";").map_or(example.len(), |i| start + i);
        example[start..end].to_owned()
    }

    #[test]
    fn the_quick_start_program_is_stock_whatever_its_whitespace() {
        let text = quick_start();
        assert!(is_stock(text.as_bytes()));
        let reflowed = text.replace('\n', "\r\n  ").replace("    ", "\t");
        assert!(is_stock(reflowed.as_bytes()));
    }

    #[test]
    fn another_program_is_not() {
        let text = quick_start().replace("TCP_CLOSE", "TCP_CLOSE && dport == 443");
        assert!(!is_stock(text.as_bytes()));
        assert!(!is_stock(b""));
    }
}
