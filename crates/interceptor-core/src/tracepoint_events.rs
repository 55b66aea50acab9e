//! Tracefs tracepoints (`SEC("tracepoint/...")` programs) are attached
//! through perf events, and closing the last perf event on a tracepoint makes
//! the kernel wait for RCU grace periods (`tracepoint_synchronize_unregister`:
//! ~70 ms per tracepoint on 6.18, measured with strace around cleanup()).
//! TCP's accept hook uses two such tracepoints on kernels without fexit or
//! kprobes, which made cleanup() take ~150 ms.
//!
//! So, on kernels that attach programs to perf events through BPF links
//! (5.15+; before that a program leaves an event only when the event is
//! closed, and libbpf's own attach is used), the perf events are kept per
//! process in a pool: a session attaches its program to a pooled event
//! (opened on first use), and detaching takes the program off and disables
//! the event without closing it. A disabled event without a program costs nothing when the
//! tracepoint fires; the pool holds at most one event per tracepoint and
//! concurrent session, and the kernel closes them when the process exits.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::sync::Mutex;

use libbpf_rs::{Link, ProgramMut};

use crate::sync::lock;

/// One perf event on a tracepoint.
#[derive(Debug)]
struct PooledEvent {
    tracepoint: String,
    fd: OwnedFd,
    in_use: bool,
}

static POOL: Mutex<Vec<PooledEvent>> = Mutex::new(Vec::new());

/// A program attached to a pooled tracepoint event; detaches on drop and
/// gives the event back to the pool.
#[derive(Debug)]
pub struct TracepointLink {
    // Dropped first: takes the program off and disables the event.
    link: Option<Link>,
    event_fd: i32,
}

impl Drop for TracepointLink {
    fn drop(&mut self) {
        drop(self.link.take());
        if let Some(event) = lock(&POOL).iter_mut().find(|e| e.fd.as_raw_fd() == self.event_fd) {
            event.in_use = false;
        }
    }
}

/// Opens a perf event on the tracepoint with id `id`, disabled.
fn open_event(id: u64) -> Result<OwnedFd, String> {
    // SAFETY: all-zero is a valid perf_event_attr (bindgen POD).
    let mut attr: libbpf_sys::perf_event_attr = unsafe { std::mem::zeroed() };
    attr.type_ = libbpf_sys::PERF_TYPE_TRACEPOINT;
    attr.size = std::mem::size_of::<libbpf_sys::perf_event_attr>() as u32;
    attr.config = id;
    attr.set_disabled(1);
    // SAFETY: perf_event_open with a valid attr; pid -1 and cpu 0 as libbpf
    // does for tracepoints (a program on a tracepoint event runs on every CPU).
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &raw const attr,
            -1,
            0,
            -1,
            libbpf_sys::PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(format!("perf_event_open: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: a new descriptor the kernel just returned, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Attaches `program` to tracepoint `category/name` (its id read from the
/// tracefs mounted at `tracefs`) through a pooled perf event.
pub fn attach(program: &ProgramMut<'_>, tracefs: &Path, category: &str, name: &str) -> Result<TracepointLink, String> {
    let tracepoint = format!("{category}/{name}");
    let mut pool = lock(&POOL);
    let index = match pool.iter().position(|e| !e.in_use && e.tracepoint == tracepoint) {
        Some(index) => index,
        None => {
            let id_file = tracefs.join("events").join(category).join(name).join("id");
            let id: u64 = std::fs::read_to_string(&id_file)
                .map_err(|e| format!("{}: {e}", id_file.display()))?
                .trim()
                .parse()
                .map_err(|e| format!("{}: {e}", id_file.display()))?;
            pool.push(PooledEvent {
                tracepoint,
                fd: open_event(id)?,
                in_use: false,
            });
            pool.len() - 1
        }
    };
    let event = &mut pool[index];
    // libbpf owns (and closes) the descriptor it is given: a duplicate, so
    // the pooled one keeps the event alive.
    let duplicate = event
        .fd
        .try_clone()
        .map_err(|e| format!("duplicating the perf event: {e}"))?;
    let link = program
        .attach_perf_event(duplicate.as_raw_fd())
        .map_err(|e| format!("attaching to tracepoint {category}:{name}: {e}"))?;
    // The link now owns the duplicate's descriptor.
    std::mem::forget(duplicate);
    event.in_use = true;
    Ok(TracepointLink {
        link: Some(link),
        event_fd: event.fd.as_raw_fd(),
    })
}
