//! The in-kernel filter's spec: parsing the text users write
//! (`pid=1,port=80,addr=10.0.0.0/8`), and its encoding into the layout the
//! BPF side reads (`struct filter` in bpf/filter.h). Terms with the same key
//! OR, different keys AND; an empty spec means everything.

use std::fmt;
use std::net::IpAddr;
use std::os::unix::fs::MetadataExt;

use crate::settings::shown;

/// Values per key (`FILTER_TERMS` in bpf/filter.h).
pub const TERMS_PER_KEY: usize = 8;

/// `enum filter_key` bits.
pub mod key {
    pub const PID: u32 = 1 << 0;
    pub const UID: u32 = 1 << 1;
    pub const COMM: u32 = 1 << 2;
    pub const PORT: u32 = 1 << 3;
    pub const LPORT: u32 = 1 << 4;
    pub const RPORT: u32 = 1 << 5;
    pub const FAMILY: u32 = 1 << 6;
    pub const ADDR: u32 = 1 << 7;
    pub const NETNS: u32 = 1 << 8;
    pub const CGROUP: u32 = 1 << 9;
}

/// The grammar, for messages and the headers.
pub const GRAMMAR: &str = "comma-separated terms pid=N, uid=N, comm=NAME, port=N (either end), lport=N, \
rport=N, family=4|6, addr=CIDR (either end), netns=INODE|/proc/PID/ns/net, cgroup=/sys/fs/cgroup/PATH \
(that cgroup and its descendants); terms with the same key OR, different keys AND; empty: everything";

/// An address range: `net` and `mask`, 16 bytes each (IPv4 in the first 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// AF_INET or AF_INET6.
    pub family: u16,
    /// Network, masked.
    pub net: [u8; 16],
    /// Mask.
    pub mask: [u8; 16],
}

impl Cidr {
    fn new(addr: IpAddr, prefix: u8) -> Self {
        let (family, bytes, bits) = match addr {
            IpAddr::V4(v4) => {
                let mut b = [0u8; 16];
                b[..4].copy_from_slice(&v4.octets());
                (crate::addr::AF_INET, b, 32u8)
            }
            IpAddr::V6(v6) => (crate::addr::AF_INET6, v6.octets(), 128u8),
        };
        let mut mask = [0u8; 16];
        for (i, byte) in mask.iter_mut().enumerate().take(usize::from(bits / 8)) {
            let covered = u32::from(prefix).saturating_sub(i as u32 * 8).min(8);
            *byte = if covered == 0 { 0 } else { 0xffu8 << (8 - covered) };
        }
        let mut net = bytes;
        for (n, m) in net.iter_mut().zip(mask) {
            *n &= m;
        }
        Self { family, net, mask }
    }

    /// Slots of the BPF side's table this range takes.
    fn slots(&self) -> usize {
        if self.family == crate::addr::AF_INET { 2 } else { 1 }
    }

    /// The same range as dual-stack sockets see it (`::ffff:a.b.c.d/96+n`).
    fn v4_mapped(self) -> Self {
        let mut net = [0u8; 16];
        let mut mask = [0u8; 16];
        net[10] = 0xff;
        net[11] = 0xff;
        mask[..12].fill(0xff);
        net[12..].copy_from_slice(&self.net[..4]);
        mask[12..].copy_from_slice(&self.mask[..4]);
        Self {
            family: crate::addr::AF_INET6,
            net,
            mask,
        }
    }
}

/// A parsed filter: the values of each key (empty: the key is not used).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterSpec {
    /// The text it was parsed from, as given.
    pub text: String,
    pub pid: Vec<u32>,
    pub uid: Vec<u32>,
    /// Command names, NUL-padded to 16 bytes.
    pub comm: Vec<[u8; 16]>,
    pub port: Vec<u16>,
    pub lport: Vec<u16>,
    pub rport: Vec<u16>,
    /// Bit 0: IPv4, bit 1: IPv6.
    pub families: u8,
    pub addr: Vec<Cidr>,
    pub netns: Vec<u32>,
    /// cgroup v2 ids (directory inodes).
    pub cgroup: Vec<u64>,
}

/// Why a spec was refused: the offending term and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn push_limited<V>(values: &mut Vec<V>, value: V, term: &str, key: &str) -> Result<(), FilterError> {
    if values.len() == TERMS_PER_KEY {
        return Err(FilterError(format!(
            "filter term {}: at most {TERMS_PER_KEY} {key}= terms",
            shown(term)
        )));
    }
    values.push(value);
    Ok(())
}

fn number<N: std::str::FromStr>(term: &str, value: &str, what: &str) -> Result<N, FilterError> {
    value
        .parse()
        .map_err(|_| FilterError(format!("filter term {}: {what}", shown(term))))
}

fn cidr(term: &str, value: &str) -> Result<Cidr, FilterError> {
    let bad = || FilterError(format!("filter term {}: not an address or CIDR range", shown(term)));
    let (addr, prefix) = match value.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (value, None),
    };
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    let bits = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => bits,
        Some(p) => p.parse::<u8>().ok().filter(|p| *p <= bits).ok_or_else(bad)?,
    };
    Ok(Cidr::new(addr, prefix))
}

fn inode_of(term: &str, path: &str) -> Result<u64, FilterError> {
    std::fs::metadata(path)
        .map(|m| m.ino())
        .map_err(|e| FilterError(format!("filter term {}: {e}", shown(term))))
}

/// `CGROUP2_SUPER_MAGIC`.
const CGROUP2_MAGIC: i64 = 0x6367_7270;

fn cgroup_id(term: &str, path: &str) -> Result<u64, FilterError> {
    let on_cgroup2 = nix::sys::statfs::statfs(path)
        .map_err(|e| FilterError(format!("filter term {}: {e}", shown(term))))?
        .filesystem_type()
        .0 as i64
        == CGROUP2_MAGIC;
    if !on_cgroup2 {
        return Err(FilterError(format!(
            "filter term {}: not a cgroup v2 directory",
            shown(term)
        )));
    }
    inode_of(term, path)
}

impl FilterSpec {
    /// Everything passes.
    pub const EMPTY: Self = Self {
        text: String::new(),
        pid: Vec::new(),
        uid: Vec::new(),
        comm: Vec::new(),
        port: Vec::new(),
        lport: Vec::new(),
        rport: Vec::new(),
        families: 0,
        addr: Vec::new(),
        netns: Vec::new(),
        cgroup: Vec::new(),
    };

    /// Parses a spec; the error names the offending term.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        let mut spec = Self {
            text: text.to_owned(),
            ..Self::default()
        };
        for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (key, value) = term
                .split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .ok_or_else(|| FilterError(format!("filter term {}: expected key=value", shown(term))))?;
            match key {
                "pid" => push_limited(&mut spec.pid, number(term, value, "not a process id")?, term, key)?,
                "uid" => push_limited(&mut spec.uid, number(term, value, "not a user id")?, term, key)?,
                "comm" => {
                    if value.is_empty() || value.len() > 15 {
                        return Err(FilterError(format!(
                            "filter term {}: a command name has 1 to 15 bytes",
                            shown(term)
                        )));
                    }
                    let mut comm = [0u8; 16];
                    comm[..value.len()].copy_from_slice(value.as_bytes());
                    push_limited(&mut spec.comm, comm, term, key)?;
                }
                "port" | "lport" | "rport" => {
                    let port = number::<u16>(term, value, "not a port (0 to 65535)")?;
                    let list = match key {
                        "port" => &mut spec.port,
                        "lport" => &mut spec.lport,
                        _ => &mut spec.rport,
                    };
                    push_limited(list, port, term, key)?;
                }
                "family" => {
                    spec.families |= match value {
                        "4" | "inet" | "ipv4" => 1,
                        "6" | "inet6" | "ipv6" => 2,
                        _ => {
                            return Err(FilterError(format!("filter term {}: family is 4 or 6", shown(term))));
                        }
                    };
                }
                "addr" => {
                    let range = cidr(term, value)?;
                    // An IPv4 range takes two of the BPF side's slots: as it
                    // is, and v4-mapped (dual-stack sockets report IPv4 peers
                    // so).
                    let slots: usize = spec.addr.iter().chain([&range]).map(Cidr::slots).sum();
                    if slots > TERMS_PER_KEY {
                        return Err(FilterError(format!(
                            "filter term {}: at most {TERMS_PER_KEY} addr= ranges (an IPv4 range counts twice)",
                            shown(term)
                        )));
                    }
                    spec.addr.push(range);
                }
                "netns" => {
                    let inode = if value.starts_with('/') {
                        inode_of(term, value)?
                    } else {
                        number(term, value, "not a namespace inode or /proc/PID/ns/net path")?
                    };
                    let inode = u32::try_from(inode)
                        .map_err(|_| FilterError(format!("filter term {}: inode too large", shown(term))))?;
                    push_limited(&mut spec.netns, inode, term, key)?;
                }
                "cgroup" => {
                    let id = cgroup_id(term, value)?;
                    push_limited(&mut spec.cgroup, id, term, key)?;
                }
                _ => {
                    return Err(FilterError(format!(
                        "filter term {}: unknown key {}; use {GRAMMAR}",
                        shown(term),
                        shown(key)
                    )));
                }
            }
        }
        Ok(spec)
    }

    /// The `enum filter_key` bits of the keys used.
    pub fn keys(&self) -> u32 {
        let mut keys = 0;
        for (used, bit) in [
            (!self.pid.is_empty(), key::PID),
            (!self.uid.is_empty(), key::UID),
            (!self.comm.is_empty(), key::COMM),
            (!self.port.is_empty(), key::PORT),
            (!self.lport.is_empty(), key::LPORT),
            (!self.rport.is_empty(), key::RPORT),
            (self.families != 0, key::FAMILY),
            (!self.addr.is_empty(), key::ADDR),
            (!self.netns.is_empty(), key::NETNS),
            (!self.cgroup.is_empty(), key::CGROUP),
        ] {
            if used {
                keys |= bit;
            }
        }
        keys
    }

    /// The address ranges as the BPF side checks them: IPv4 ones also
    /// v4-mapped (parsing keeps them within the BPF side's room).
    pub fn bpf_ranges(&self) -> Vec<Cidr> {
        let mut ranges = Vec::with_capacity(TERMS_PER_KEY);
        for range in &self.addr {
            ranges.push(*range);
            if range.family == crate::addr::AF_INET {
                ranges.push(range.v4_mapped());
            }
        }
        ranges
    }
}

/// Words of 16 bytes, as the BPF side compares comm and addresses.
pub fn words(bytes: &[u8; 16]) -> [u64; 2] {
    let mut low = [0u8; 8];
    let mut high = [0u8; 8];
    low.copy_from_slice(&bytes[..8]);
    high.copy_from_slice(&bytes[8..]);
    [u64::from_ne_bytes(low), u64::from_ne_bytes(high)]
}

/// Fills a skeleton's generated `struct filter` (each library has its own
/// generated type for it) from a spec and a generation.
#[macro_export]
macro_rules! encode_filter {
    ($filter:expr, $spec:expr, $generation:expr) => {{
        let spec: &$crate::filter::FilterSpec = $spec;
        let filter = &mut $filter;
        filter.keys = spec.keys();
        filter.generation = $generation;
        filter.families = spec.families;
        filter.n_pid = spec.pid.len() as u8;
        filter.n_uid = spec.uid.len() as u8;
        filter.n_comm = spec.comm.len() as u8;
        filter.n_port = spec.port.len() as u8;
        filter.n_lport = spec.lport.len() as u8;
        filter.n_rport = spec.rport.len() as u8;
        filter.n_netns = spec.netns.len() as u8;
        filter.n_cgroup = spec.cgroup.len() as u8;
        for (slot, value) in filter.pid.iter_mut().zip(&spec.pid) {
            *slot = *value;
        }
        for (slot, value) in filter.uid.iter_mut().zip(&spec.uid) {
            *slot = *value;
        }
        for (slot, value) in filter.comm.iter_mut().zip(&spec.comm) {
            *slot = $crate::filter::words(value);
        }
        for (slot, value) in filter.port.iter_mut().zip(&spec.port) {
            *slot = *value;
        }
        for (slot, value) in filter.lport.iter_mut().zip(&spec.lport) {
            *slot = *value;
        }
        for (slot, value) in filter.rport.iter_mut().zip(&spec.rport) {
            *slot = *value;
        }
        for (slot, value) in filter.netns.iter_mut().zip(&spec.netns) {
            *slot = *value;
        }
        for (slot, value) in filter.cgroup.iter_mut().zip(&spec.cgroup) {
            *slot = *value;
        }
        let ranges = spec.bpf_ranges();
        filter.n_addr = ranges.len() as u8;
        for (slot, range) in filter.addr.iter_mut().zip(&ranges) {
            slot.family = range.family;
            slot.net = $crate::filter::words(&range.net);
            slot.mask = $crate::filter::words(&range.mask);
        }
    }};
}

/// A skeleton's generated `struct filter` type, filled from a spec and a
/// generation, as the bytes the `filters` map holds: the whole of each
/// tracer's `encode_filter`.
#[macro_export]
macro_rules! filter_map_bytes {
    ($filter_type:ty, $spec:expr, $generation:expr) => {{
        let mut filter = <$filter_type>::default();
        $crate::encode_filter!(filter, $spec, $generation);
        // SAFETY: the generated #[repr(C)] struct viewed as its bytes, as the
        // map holds it; bpf/filter.h orders it so that it has no padding.
        let bytes = unsafe {
            ::std::slice::from_raw_parts((&raw const filter).cast::<u8>(), ::std::mem::size_of::<$filter_type>())
        };
        bytes.to_vec()
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_parse_and_keys_combine() {
        let spec = FilterSpec::parse("pid=42, pid=43,comm=curl,port=443,family=6,addr=10.0.0.0/8").unwrap();
        assert_eq!(spec.pid, vec![42, 43]);
        assert_eq!(&spec.comm[0][..5], b"curl\0");
        assert_eq!(spec.port, vec![443]);
        assert_eq!(spec.families, 2);
        assert_eq!(spec.keys(), key::PID | key::COMM | key::PORT | key::FAMILY | key::ADDR);
        assert_eq!(spec.addr[0].net[..4], [10, 0, 0, 0]);
        assert_eq!(spec.addr[0].mask[..4], [255, 0, 0, 0]);
        let ranges = spec.bpf_ranges();
        assert_eq!(ranges.len(), 2);
        assert_eq!(ranges[1].net[10..13], [0xff, 0xff, 10]);
        assert_eq!(ranges[1].mask[..13], [0xff; 13]);
        assert_eq!(FilterSpec::parse("").unwrap().keys(), 0);
    }

    #[test]
    fn prefixes_mask_partial_bytes() {
        let range = cidr("addr=192.0.2.77/28", "192.0.2.77/28").unwrap();
        assert_eq!(range.net[..4], [192, 0, 2, 64]);
        assert_eq!(range.mask[..4], [255, 255, 255, 240]);
        let host = cidr("addr=2001:db8::1", "2001:db8::1").unwrap();
        assert_eq!(host.mask, [0xff; 16]);
    }

    #[test]
    fn a_bad_term_is_named() {
        assert_eq!(
            FilterSpec::parse("pid=1,port=http").unwrap_err().0,
            "filter term \"port=http\": not a port (0 to 65535)"
        );
        assert_eq!(
            FilterSpec::parse("family=5").unwrap_err().0,
            "filter term \"family=5\": family is 4 or 6"
        );
        assert!(
            FilterSpec::parse("colour=red")
                .unwrap_err()
                .0
                .starts_with("filter term \"colour=red\": unknown key \"colour\"")
        );
        assert_eq!(
            FilterSpec::parse("addr=10.0.0.0/33").unwrap_err().0,
            "filter term \"addr=10.0.0.0/33\": not an address or CIDR range"
        );
        assert_eq!(
            FilterSpec::parse("cgroup=/proc").unwrap_err().0,
            "filter term \"cgroup=/proc\": not a cgroup v2 directory"
        );
        let nine = (1..=9).map(|p| format!("pid={p}")).collect::<Vec<_>>().join(",");
        assert_eq!(
            FilterSpec::parse(&nine).unwrap_err().0,
            "filter term \"pid=9\": at most 8 pid= terms"
        );
    }
}
