//! `struct tcp_event_t` declared from the spec (the original common.h), not
//! from the library's own code.

use std::ffi::{CStr, c_char};

use crate::library::{EventAbi, Library};

/// `struct tcp_event_t`, `#pragma pack(1)`, 430 bytes.
#[repr(C, packed)]
#[derive(Clone, Copy)]
#[allow(non_snake_case)]
pub struct TcpEvent {
    pub EventTime: u64,
    pub pid: u32,
    pub UserId: u32,
    pub rx_b: u64,
    pub tx_b: u64,
    pub tcpi_segs_out: u32,
    pub tcpi_segs_in: u32,
    pub family: u16,
    pub SPT: u16,
    pub DPT: u16,
    pub task: [c_char; 128],
    pub SADDR: [c_char; 128],
    pub DADDR: [c_char; 128],
}

const _: () = assert!(std::mem::size_of::<TcpEvent>() == 430);

/// libtcpEvent.so, loaded.
pub type TcpLibrary = Library<TcpEvent>;

impl EventAbi for TcpEvent {
    const FILE: &'static str = "libtcpEvent.so";
    const PREFIX: &'static str = "tcpEvent";
    const ADD_PROBE_TAKES_PROGRAM: bool = true;

    fn zeroed() -> Self {
        TcpEvent::zeroed()
    }

    fn local_port(&self) -> u16 {
        self.SPT
    }

    fn describe(&self) -> String {
        let (port, peer, pid, rx, tx) = (self.SPT, self.DPT, self.pid, self.rx_b, self.tx_b);
        format!(
            "port={port} peer_port={peer} pid={pid} task={} rx={rx} tx={tx}",
            self.task()
        )
    }
}

impl TcpEvent {
    /// All zero.
    pub fn zeroed() -> Self {
        Self {
            EventTime: 0,
            pid: 0,
            UserId: 0,
            rx_b: 0,
            tx_b: 0,
            tcpi_segs_out: 0,
            tcpi_segs_in: 0,
            family: 0,
            SPT: 0,
            DPT: 0,
            task: [0; 128],
            SADDR: [0; 128],
            DADDR: [0; 128],
        }
    }

    pub fn task(&self) -> String {
        let field = self.task;
        crate::c_text(&field)
    }

    pub fn saddr(&self) -> String {
        let field = self.SADDR;
        crate::c_text(&field)
    }

    pub fn daddr(&self) -> String {
        let field = self.DADDR;
        crate::c_text(&field)
    }

    /// Local and remote port.
    pub fn ports(&self) -> (u16, u16) {
        (self.SPT, self.DPT)
    }

    /// A live-connection snapshot, by the documented rule (task[127] == 1),
    /// not by asking the library.
    pub fn is_snapshot(&self) -> bool {
        let task = self.task;
        task[127] == 1
    }
}

impl std::fmt::Debug for TcpEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (time, pid, uid, rx, tx) = (self.EventTime, self.pid, self.UserId, self.rx_b, self.tx_b);
        let (so, si, fam, spt, dpt) = (self.tcpi_segs_out, self.tcpi_segs_in, self.family, self.SPT, self.DPT);
        write!(
            f,
            "tcp_event{{time={time} pid={pid} uid={uid} task={:?} fam={fam} {}:{spt} -> {}:{dpt} rx={rx} tx={tx} segs_out={so} segs_in={si}}}",
            self.task(),
            self.saddr(),
            self.daddr()
        )
    }
}

/// The BCC program the original docs' quick-start passes to AddProbe, as
/// examples/tcp_monitor.c has it: the library must accept it, not compile
/// it, and say nothing about it.
pub fn bcc_program() -> &'static CStr {
    static PROGRAM: std::sync::OnceLock<std::ffi::CString> = std::sync::OnceLock::new();
    PROGRAM.get_or_init(|| {
        let example = include_str!("../../../examples/tcp_monitor.c");
        let start = example.find("R\"(").map_or(0, |i| i + 3);
        let end = example[start..].find(")\";").map_or(example.len(), |i| start + i);
        std::ffi::CString::new(&example[start..end]).unwrap_or_default()
    })
}
