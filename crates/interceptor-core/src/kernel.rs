//! What the running kernel offers, found out lazily and cheaply before any
//! load: its BTF (functions, tracepoints), kprobes, tracefs (mounted if
//! absent), the cgroup v2 root (mounted privately if absent), and whether
//! this process may load BPF programs at all.

use std::fs;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use libbpf_rs::Btf;
use libbpf_rs::btf::types::{Func, FuncProto, Struct, Typedef};
use nix::mount::{MntFlags, MsFlags, mount, umount2};

/// Lazily gathered facts about the running kernel.
#[derive(Default)]
pub struct KernelFacts {
    vmlinux_btf: Option<Result<Btf<'static>, String>>,
    tracefs: Option<Result<PathBuf, String>>,
}

impl std::fmt::Debug for KernelFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelFacts")
            .field("tracefs", &self.tracefs)
            .finish_non_exhaustive()
    }
}

impl KernelFacts {
    /// Whether the kernel has kprobes (`CONFIG_KPROBES`).
    pub fn kprobes(&self) -> Result<(), String> {
        if Path::new("/sys/bus/event_source/devices/kprobe").exists() {
            Ok(())
        } else {
            Err("the kernel has no kprobes (CONFIG_KPROBES is not set)".into())
        }
    }

    /// Number of arguments of a kernel function, from the kernel's BTF.
    pub fn function_arity(&mut self, function: &str) -> Result<usize, String> {
        let btf = self.vmlinux_btf()?;
        let func: Func<'_> = btf
            .type_by_name(function)
            .ok_or_else(|| format!("{function}() is not in the kernel's BTF"))?;
        let proto = func
            .next_type()
            .and_then(|ty| FuncProto::try_from(ty).ok())
            .ok_or_else(|| format!("{function}() has no prototype in the kernel's BTF"))?;
        Ok(proto.len())
    }

    /// Whether fentry/fexit programs load on `function`: it is in the
    /// kernel's BTF and the kernel does not refuse them. Some kernels refuse
    /// every one at load (EPERM; this project's 6.18 Firecracker host); a
    /// two-instruction fexit program finds that out in microseconds, before
    /// the path's real programs are verified (TCP's state handler alone takes
    /// ~100 ms). A kernel that loads it but fails the real attach is still
    /// caught by the full load.
    pub fn function_tracing(&mut self, function: &str) -> Result<(), String> {
        let btf = self.vmlinux_btf()?;
        let func: Func<'_> = btf
            .type_by_name(function)
            .ok_or_else(|| format!("{function}() is not in the kernel's BTF"))?;
        // r0 = 0; exit (an fexit program must return 0).
        let mut insns = [libbpf_sys::bpf_insn::default(); 2];
        insns[0].code = (libbpf_sys::BPF_ALU64 | libbpf_sys::BPF_MOV | libbpf_sys::BPF_K) as u8;
        insns[1].code = (libbpf_sys::BPF_JMP | libbpf_sys::BPF_EXIT) as u8;
        let mut opts = libbpf_sys::bpf_prog_load_opts {
            sz: std::mem::size_of::<libbpf_sys::bpf_prog_load_opts>() as libbpf_sys::size_t,
            expected_attach_type: libbpf_sys::BPF_TRACE_FEXIT,
            attach_btf_id: func.type_id().into(),
            ..Default::default()
        };
        // SAFETY: the instructions, names and options outlive the call, and
        // opts.sz is the size of the struct passed.
        let fd = unsafe {
            libbpf_sys::bpf_prog_load(
                libbpf_sys::BPF_PROG_TYPE_TRACING,
                c"probe_fexit".as_ptr(),
                c"GPL".as_ptr(),
                insns.as_ptr(),
                insns.len() as libbpf_sys::size_t,
                &mut opts,
            )
        };
        if fd < 0 {
            return Err(format!(
                "the kernel refuses fentry/fexit programs on {function}() ({})",
                nix::errno::Errno::from_raw(-fd)
            ));
        }
        // SAFETY: bpf_prog_load returned a new descriptor that nothing else owns.
        drop(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) });
        Ok(())
    }

    /// Whether BPF programs may walk a map with `bpf_for_each_map_elem`
    /// (5.13+): see [`map_walks_supported`].
    pub fn map_walks(&mut self) -> bool {
        map_walks_supported()
    }

    /// Whether a BPF program can be attached to a perf event through a BPF
    /// link (5.15+, `struct bpf_perf_link`), which detaches it without
    /// closing the event; before that the program stays on the event until
    /// the event is closed.
    pub fn perf_links(&mut self) -> bool {
        self.vmlinux_btf()
            .is_ok_and(|btf| btf.type_by_name::<Struct<'_>>("bpf_perf_link").is_some())
    }

    /// Checks that the kernel has tracepoint `name` (its BTF declares
    /// `btf_trace_<name>` for every tracepoint).
    pub fn tracepoint(&mut self, name: &str) -> Result<(), String> {
        let btf = self.vmlinux_btf()?;
        btf.type_by_name::<Typedef<'_>>(&format!("btf_trace_{name}"))
            .map(drop)
            .ok_or_else(|| format!("tracepoint {name} does not exist on this kernel"))
    }

    fn vmlinux_btf(&mut self) -> Result<&Btf<'static>, String> {
        self.vmlinux_btf
            .get_or_insert_with(|| Btf::from_vmlinux().map_err(|e| format!("kernel BTF is not readable: {e}")))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The tracefs root libbpf will use, mounting tracefs at
    /// /sys/kernel/tracing if none is mounted.
    pub fn tracefs(&mut self) -> Result<PathBuf, String> {
        self.tracefs.get_or_insert_with(find_or_mount_tracefs).clone()
    }

    /// Checks that a tracefs event exists, mounting tracefs at
    /// /sys/kernel/tracing first if no tracefs is mounted.
    pub fn tracefs_event(&mut self, category: &str, name: &str) -> Result<(), String> {
        let root = self.tracefs()?;
        if root.join("events").join(category).join(name).join("format").exists() {
            Ok(())
        } else {
            Err(format!("tracepoint {category}:{name} does not exist on this kernel"))
        }
    }
}

/// Whether BPF programs may walk a map with `bpf_for_each_map_elem` (5.13+),
/// probed once per process with a tiny tc program: a library's settings
/// (which flush its object runs) and its attach path agree on it.
pub fn map_walks_supported() -> bool {
    static ANSWER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ANSWER.get_or_init(|| {
        // SAFETY: a probe with no options (NULL is allowed); it loads and frees a program.
        let probed = unsafe {
            libbpf_sys::libbpf_probe_bpf_helper(
                libbpf_sys::BPF_PROG_TYPE_SCHED_CLS,
                libbpf_sys::BPF_FUNC_for_each_map_elem,
                std::ptr::null(),
            )
        };
        probed == 1
    })
}

fn find_or_mount_tracefs() -> Result<PathBuf, String> {
    // Where libbpf looks, in its order.
    for candidate in ["/sys/kernel/debug/tracing", "/sys/kernel/tracing"] {
        if Path::new(candidate).join("events").is_dir() {
            return Ok(PathBuf::from(candidate));
        }
    }
    let target = Path::new("/sys/kernel/tracing");
    mount(Some("tracefs"), target, Some("tracefs"), MsFlags::empty(), None::<&str>).map_err(|e| {
        format!(
            "tracefs is not mounted and mounting it at {} failed: {e}",
            target.display()
        )
    })?;
    crate::diag::debug("mounted tracefs at /sys/kernel/tracing");
    Ok(target.to_path_buf())
}

/// The capabilities the libraries need, each also implied by CAP_SYS_ADMIN
/// (kernels before 5.8 know only that one): loading BPF programs and maps,
/// loading tracing programs (tracepoints, kprobes, fentry, iterators), and
/// loading and attaching cgroup programs.
const NEEDED_CAPABILITIES: [(u32, &str); 3] = [(39, "CAP_BPF"), (38, "CAP_PERFMON"), (12, "CAP_NET_ADMIN")];
const CAP_SYS_ADMIN: u32 = 21;

/// Whether this process may load and attach the libraries' programs: a
/// cause a person can act on, naming the missing capabilities, before
/// libbpf's EPERM (which would otherwise read as a kernel that lacks a hook).
pub fn check_privilege() -> Result<(), String> {
    let status = fs::read_to_string("/proc/self/status").map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
    let effective = status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0);
    missing_capabilities(effective).map_or(Ok(()), |missing| {
        Err(format!(
            "not permitted to load BPF programs (missing {missing}): run as root, or grant CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN"
        ))
    })
}

/// The needed capabilities an effective set lacks, as a list for a message.
fn missing_capabilities(effective: u64) -> Option<String> {
    let has = |cap: u32| effective & (1 << cap) != 0;
    if has(CAP_SYS_ADMIN) {
        return None;
    }
    let missing: Vec<&str> = NEEDED_CAPABILITIES
        .iter()
        .filter(|(cap, _)| !has(*cap))
        .map(|(_, name)| *name)
        .collect();
    match missing.as_slice() {
        [] => None,
        [one] => Some((*one).to_owned()),
        [first @ .., last] => Some(format!("{} and {last}", first.join(", "))),
    }
}

/// The cgroup v2 root directory, open for attaching; unmounted on drop if
/// this library had to mount it.
#[derive(Debug)]
pub struct CgroupRoot {
    dir: OwnedFd,
    mounted_here: Option<PathBuf>,
}

impl CgroupRoot {
    /// Finds the mounted cgroup v2 hierarchy, or mounts one in a private
    /// directory under /run. Programs attached to its root see every socket
    /// of the host (of the cgroup namespace, inside a container).
    pub fn open() -> Result<Self, String> {
        if let Some(path) = cgroup2_mount_point() {
            let dir =
                fs::File::open(&path).map_err(|e| format!("cannot open cgroup v2 root {}: {e}", path.display()))?;
            return Ok(Self {
                dir: dir.into(),
                mounted_here: None,
            });
        }
        let path = PathBuf::from("/run/ebpf-event-interceptor/cgroup2");
        fs::create_dir_all(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        mount(Some("cgroup2"), &path, Some("cgroup2"), MsFlags::empty(), None::<&str>).map_err(|e| {
            format!(
                "no cgroup v2 hierarchy is mounted and mounting one at {} failed: {e}",
                path.display()
            )
        })?;
        crate::diag::debug(&format!("mounted cgroup v2 at {}", path.display()));
        let dir = fs::File::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        Ok(Self {
            dir: dir.into(),
            mounted_here: Some(path),
        })
    }

    /// The directory's descriptor, for `attach_cgroup`.
    pub fn raw_fd(&self) -> i32 {
        self.dir.as_raw_fd()
    }
}

impl Drop for CgroupRoot {
    fn drop(&mut self) {
        if let Some(path) = &self.mounted_here {
            // Detach lazily: links attached through it were dropped first.
            let _ = umount2(path, MntFlags::MNT_DETACH);
        }
    }
}

fn cgroup2_mount_point() -> Option<PathBuf> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    mountinfo.lines().find_map(|line| {
        let (mount_part, fs_part) = line.split_once(" - ")?;
        if fs_part.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let fields: Vec<&str> = mount_part.split_whitespace().collect();
        // Field 3 is the root of the mount within the hierarchy: only a mount
        // of the hierarchy's root sees every socket.
        if *fields.get(3)? != "/" {
            return None;
        }
        Some(PathBuf::from(fields.get(4)?.replace("\\040", " ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_capabilities_are_named() {
        let bit = |cap: u32| 1u64 << cap;
        assert_eq!(missing_capabilities(bit(CAP_SYS_ADMIN)), None);
        assert_eq!(missing_capabilities(bit(39) | bit(38) | bit(12)), None);
        assert_eq!(
            missing_capabilities(bit(39) | bit(38)).as_deref(),
            Some("CAP_NET_ADMIN")
        );
        assert_eq!(
            missing_capabilities(bit(39)).as_deref(),
            Some("CAP_PERFMON and CAP_NET_ADMIN")
        );
        assert_eq!(
            missing_capabilities(0).as_deref(),
            Some("CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN")
        );
    }

    /// These tests read the running kernel's BTF and tracefs: where either is
    /// missing (a container, a build host without root) they say so and
    /// check nothing, rather than fail or pass silently.
    fn kernel_facts_readable(test: &str) -> bool {
        let btf = Path::new("/sys/kernel/btf/vmlinux").exists();
        let tracefs = ["/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"]
            .iter()
            .any(|dir| Path::new(dir).is_dir());
        let root = nix::unistd::geteuid().is_root();
        if btf && (tracefs || root) {
            return true;
        }
        eprintln!(
            "SKIPPED {test}: needs the kernel's BTF (/sys/kernel/btf/vmlinux: {}) and tracefs \
             mounted or root to mount it (mounted: {tracefs}, root: {root})",
            if btf { "present" } else { "absent" }
        );
        false
    }

    #[test]
    fn arity_of_a_known_kernel_function() {
        if !kernel_facts_readable("arity_of_a_known_kernel_function") {
            return;
        }
        let mut kernel = KernelFacts::default();
        // tcp_close(struct sock *sk, long timeout) has had two arguments on
        // every kernel this project supports.
        assert_eq!(kernel.function_arity("tcp_close"), Ok(2));
        assert!(kernel.function_arity("no_such_function_here").is_err());
    }

    #[test]
    fn missing_tracepoint_is_named() {
        if !kernel_facts_readable("missing_tracepoint_is_named") {
            return;
        }
        let mut kernel = KernelFacts::default();
        let err = kernel.tracefs_event("sock", "no_such_event");
        assert_eq!(
            err,
            Err("tracepoint sock:no_such_event does not exist on this kernel".into())
        );
        assert_eq!(kernel.tracefs_event("sock", "inet_sock_set_state"), Ok(()));
    }
}
