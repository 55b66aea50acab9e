//! What consumers of the installed package do, inside a working copy with a
//! compiler: load the libraries by bare name (as .NET's DllImport does),
//! build against them with pkg-config, and run the docs' quick-start
//! monitors against a real connection. Then the purge must restore the
//! file list exactly, also after the libraries ran.

use std::path::Path;
use std::time::Instant;

use super::chroot::Chroot;
use super::cli;
use super::install::{LIBRARIES, apt_install, check_installed, expect_eq, expect_unchanged, purge, seconds};
use super::monitors;
use super::snapshot::Listing;
use crate::package::{PACKAGE, PREFIX};

/// What the consumers need: a compiler and pkg-config for the C monitors,
/// systemd for `systemd-analyze verify` of the unit. libelf1 (a dependency
/// of the package) is installed here too, so that installing the package
/// then unpacks nothing else: libelf1 activates ldconfig itself, which
/// would hide a missing trigger in the package.
const TOOLCHAIN: &str = "gcc libc6-dev pkg-config libelf1 systemd";

pub fn run(chroot: &Chroot, deb: &Path, version: &str, netpeer: &str) -> Result<(), String> {
    let start = Instant::now();
    chroot.sh("apt-get update -qq")?;
    chroot.sh(&format!("apt-get install --yes --no-install-recommends {TOOLCHAIN}"))?;
    let before = Listing::take(chroot)?;
    println!("package-test: consumers: {TOOLCHAIN} installed ({})", seconds(start));

    let start = Instant::now();
    let unpacked = apt_install(chroot, deb)?;
    expect_eq(
        "apt unpacked",
        &unpacked.into_iter().collect::<Vec<_>>().join(" "),
        PACKAGE,
    )?;
    check_installed(chroot, version)?;
    println!(
        "package-test: consumers: the package alone installed, ldconfig triggered ({})",
        seconds(start)
    );

    by_name(chroot)?;
    println!("package-test: consumers: dlopen(\"libtcpEvent.so\"), dlopen(\"libudpEvent.so\") load /{PREFIX}/lib/*");
    pkg_config(chroot, version)?;
    println!("package-test: consumers: built with $(pkg-config --cflags --libs tcpEvent udpEvent), runs");

    let start = Instant::now();
    monitors::tcp_monitor(chroot, netpeer)?;
    println!(
        "package-test: consumers: tcp_monitor (gcc -ldl) printed both ends of a loopback connection exactly ({})",
        seconds(start)
    );
    let start = Instant::now();
    monitors::udp_monitor(chroot, netpeer)?;
    println!(
        "package-test: consumers: udp_monitor (gcc -ldl) printed every call of a UDP conversation exactly ({})",
        seconds(start)
    );

    let start = Instant::now();
    cli::traces(chroot, netpeer)?;
    println!(
        "package-test: consumers: ebpf-interceptor tcp -o json printed both ends of a loopback connection exactly ({})",
        seconds(start)
    );
    cli::service(chroot)?;
    println!(
        "package-test: consumers: man pages installed, ebpf-interceptor.service not enabled, systemd-analyze verify accepts it"
    );

    let start = Instant::now();
    purge(chroot)?;
    expect_unchanged(chroot, &before, "dpkg --purge after use")?;
    println!(
        "package-test: consumers: dpkg --purge: the {} paths are as before the install ({})",
        before.len(),
        seconds(start)
    );
    Ok(())
}

/// The libraries load by bare name, from the package's directory.
fn by_name(chroot: &Chroot) -> Result<(), String> {
    std::fs::write(chroot.path("/tmp/by_name.c"), include_str!("c/by_name.c")).map_err(|e| e.to_string())?;
    let output = chroot.sh("gcc -Wall -o /tmp/by_name /tmp/by_name.c && /tmp/by_name")?;
    let want: String = LIBRARIES.iter().map(|l| format!("{l}: /{PREFIX}/lib/{l}\n")).collect();
    expect_eq("dlopen by name", &output, &want)
}

/// pkg-config knows both libraries, and a program built with its flags
/// finds the headers at compile time and the libraries at run time.
fn pkg_config(chroot: &Chroot, version: &str) -> Result<(), String> {
    for name in ["tcpEvent", "udpEvent"] {
        let flags = chroot.sh(&format!("pkg-config --cflags --libs {name}"))?;
        let want = format!("-I/{PREFIX}/include -L/{PREFIX}/lib -l{name}");
        expect_eq(&format!("pkg-config {name}"), flags.trim_end(), &want)?;
        let found = chroot.sh(&format!("pkg-config --modversion {name}"))?;
        expect_eq(&format!("pkg-config --modversion {name}"), found.trim_end(), version)?;
    }
    std::fs::write(chroot.path("/tmp/linked.c"), include_str!("c/linked.c")).map_err(|e| e.to_string())?;
    let output = chroot.sh(
        "gcc -Wall -Werror -o /tmp/linked /tmp/linked.c $(pkg-config --cflags --libs tcpEvent udpEvent) && /tmp/linked",
    )?;
    expect_eq("the linked program", &output, "tcp 0 0 udp 0 0\n")?;
    let ldd = chroot.sh("ldd /tmp/linked")?;
    for library in LIBRARIES {
        let want = format!("{library} => /{PREFIX}/lib/{library} ");
        if !ldd.lines().any(|line| line.trim_start().starts_with(&want)) {
            return Err(format!(
                "ldd /tmp/linked does not resolve {library} to /{PREFIX}/lib:\n{ldd}"
            ));
        }
    }
    Ok(())
}
