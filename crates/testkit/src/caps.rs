//! Running with only some capabilities, as a service granted CAP_BPF but not
//! CAP_PERFMON would: the process keeps its uid (root) and drops every other
//! capability from its permitted and effective sets.

/// Capability numbers by the names `libdriver caps=...` takes.
const NAMES: &[(&str, u32)] = &[("net_admin", 12), ("sys_admin", 21), ("perfmon", 38), ("bpf", 39)];

/// Parses `bpf,perfmon` (or `none`) into capability numbers.
pub fn parse(list: &str) -> Result<Vec<u32>, String> {
    list.split(',')
        .filter(|name| !name.is_empty() && *name != "none")
        .map(|name| {
            NAMES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, number)| *number)
                .ok_or_else(|| format!("unknown capability {name}"))
        })
        .collect()
}

#[repr(C)]
struct Header {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Keeps exactly `caps` in this process's permitted and effective sets.
pub fn keep_only(caps: &[u32]) -> Result<(), String> {
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let mut data = [Data::default(); 2];
    for &cap in caps {
        let slot = &mut data[(cap / 32) as usize];
        slot.effective |= 1 << (cap % 32);
        slot.permitted |= 1 << (cap % 32);
    }
    let header = Header {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    // SAFETY: capset with a version-3 header and two data words, as capset(2) defines.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &raw const header, data.as_ptr()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!("capset: {}", std::io::Error::last_os_error()))
    }
}
