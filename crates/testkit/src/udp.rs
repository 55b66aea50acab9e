//! `struct udp_event_t` declared from the spec (the original
//! udpEvent/common.h, with its `#pragma pack(1)`), not from the library.

use std::ffi::c_char;

use crate::library::{EventAbi, Library};

/// `struct udp_event_t`, `#pragma pack(1)`, 190 bytes.
#[repr(C, packed)]
#[derive(Clone, Copy)]
#[allow(non_snake_case)]
pub struct UdpEvent {
    pub family: u16,
    pub pid: u32,
    pub UserId: u32,
    pub EventTime: u64,
    pub SPT: u16,
    pub DPT: u16,
    pub task: [c_char; 16],
    pub rx_b: u64,
    pub tx_b: u64,
    pub rxPkts: u32,
    pub txPkts: u32,
    pub SADDR: [c_char; 64],
    pub DADDR: [c_char; 64],
}

const _: () = assert!(std::mem::size_of::<UdpEvent>() == 190);

/// libudpEvent.so, loaded.
pub type UdpLibrary = Library<UdpEvent>;

impl EventAbi for UdpEvent {
    const FILE: &'static str = "libudpEvent.so";
    const PREFIX: &'static str = "udpEvent";
    const ADD_PROBE_TAKES_PROGRAM: bool = false;

    fn zeroed() -> Self {
        Self {
            family: 0,
            pid: 0,
            UserId: 0,
            EventTime: 0,
            SPT: 0,
            DPT: 0,
            task: [0; 16],
            rx_b: 0,
            tx_b: 0,
            rxPkts: 0,
            txPkts: 0,
            SADDR: [0; 64],
            DADDR: [0; 64],
        }
    }

    fn local_port(&self) -> u16 {
        self.SPT
    }

    fn describe(&self) -> String {
        self.words()
    }
}

impl UdpEvent {
    /// Words for test output.
    fn words(&self) -> String {
        let (port, peer, pid, time) = (self.SPT, self.DPT, self.pid, self.EventTime);
        let (tx, txp, rx, rxp) = self.totals();
        format!("port={port} peer_port={peer} pid={pid} time={time} tx={tx} txp={txp} rx={rx} rxp={rxp}")
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

    /// (tx bytes, tx datagrams, rx bytes, rx datagrams).
    pub fn totals(&self) -> (u64, u32, u64, u32) {
        (self.tx_b, self.txPkts, self.rx_b, self.rxPkts)
    }
}

impl std::fmt::Debug for UdpEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (fam, pid, uid, time, spt, dpt) = (self.family, self.pid, self.UserId, self.EventTime, self.SPT, self.DPT);
        let (tx, txp, rx, rxp) = self.totals();
        write!(
            f,
            "udp_event{{time={time} pid={pid} uid={uid} task={:?} fam={fam} {}:{spt} -> {}:{dpt} tx={tx}/{txp} rx={rx}/{rxp}}}",
            self.task(),
            self.saddr(),
            self.daddr()
        )
    }
}
