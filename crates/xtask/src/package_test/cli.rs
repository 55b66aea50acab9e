//! The installed `ebpf-interceptor` command and its service, inside the
//! working copy: the command (from PATH, /usr/sbin) sees both ends of a
//! loopback connection netpeer makes, with the right processes and byte
//! counts, and stops by itself after them (--count); its man pages are
//! there; the unit is installed but not enabled, and `systemd-analyze
//! verify` accepts it with exactly the capabilities the README names
//! (systemd is installed there for this, not running).

use std::process::Command;
use std::time::Duration;

use testkit::peers::{CloseOrder, Exchange, NOBODY, run_exchange};

use super::chroot::Chroot;
use super::install::expect_eq;
use super::process::Running;

/// How long the command may take to start tracing, or to end.
const PATIENCE: Duration = Duration::from_secs(30);
const UNIT: &str = "ebpf-interceptor.service";
/// The unit's capability bounding set, as systemd reads it.
const CAPABILITIES: &str = "cap_net_admin cap_perfmon cap_bpf";

/// `ebpf-interceptor tcp -o json` sees the connection.
pub fn traces(chroot: &Chroot, netpeer: &str) -> Result<(), String> {
    let mut running = Running::spawn_reading_stderr(chroot.command("ebpf-interceptor").args([
        "tcp",
        "-o",
        "json",
        "--snapshots",
        "0",
        "-c",
        "tcpcli,tcpsrv",
        "--count",
        "2",
        "--duration",
        "60",
    ]))?;
    let stderr = running.stderr.take().ok_or("no stderr")?;
    stderr.until(|line| line.contains(": tracing "), PATIENCE)?;
    let exchange = Exchange::new("127.0.0.1", "127.0.0.1", CloseOrder::ClientFirst);
    let report = run_exchange(netpeer, &exchange, || {});
    let status = running.wait(PATIENCE)?;
    let printed = running.stdout.rest(PATIENCE)?;
    if !status.success() {
        return Err(format!(
            "ebpf-interceptor ended with {status}; stderr: {:?}",
            stderr.rest(PATIENCE)
        ));
    }
    let events: Vec<serde_json::Value> = printed
        .iter()
        .map(|line| serde_json::from_str(line).map_err(|e| format!("not JSON ({e}): {line}")))
        .collect::<Result<_, _>>()?;
    let ((client_rx, client_tx), (server_rx, server_tx)) =
        CloseOrder::ClientFirst.expected_bytes(exchange.client_sends, exchange.server_sends);
    let want = [
        (
            report.client_port,
            report.server_port,
            report.client_pid,
            NOBODY,
            "tcpcli",
            client_rx,
            client_tx,
        ),
        (
            report.server_port,
            report.client_port,
            report.server_pid,
            0,
            "tcpsrv",
            server_rx,
            server_tx,
        ),
    ];
    if events.len() != 2 {
        return Err(format!(
            "ebpf-interceptor printed {events:#?}, want the two ends' closes"
        ));
    }
    for (local, remote, pid, uid, comm, rx, tx) in want {
        let event = events
            .iter()
            .find(|e| e["local_port"] == local)
            .ok_or_else(|| format!("no event of port {local}: {events:?}"))?;
        let got = (
            event["kind"].as_str(),
            event["remote_port"].as_u64(),
            event["pid"].as_u64(),
            event["uid"].as_u64(),
            event["comm"].as_str(),
            event["rx_bytes"].as_u64(),
            event["tx_bytes"].as_u64(),
        );
        let expected = (
            Some("close"),
            Some(remote.into()),
            Some(pid.into()),
            Some(uid.into()),
            Some(comm),
            Some(rx),
            Some(tx),
        );
        if got != expected {
            return Err(format!("ebpf-interceptor printed {event}, want {expected:?}"));
        }
    }
    Ok(())
}

/// The man pages are installed and `man` would find them by name; the unit
/// is not enabled; `systemd-analyze verify` (the host's, on the working
/// copy's files: minbase has no systemd) accepts it without a word (it
/// exits 0 on unknown keys and bad values, so any output fails) and reads
/// the capability bounding set the README names (a misspelt capability
/// would be dropped silently).
pub fn service(chroot: &Chroot) -> Result<(), String> {
    for page in [
        "ebpf-interceptor",
        "ebpf-interceptor-tcp",
        "ebpf-interceptor-udp",
        "ebpf-interceptor-top",
    ] {
        let path = format!("/usr/share/man/man8/{page}.8.gz");
        if !chroot.path(&path).is_file() {
            return Err(format!("{path} is missing"));
        }
    }
    let enabled = chroot.sh(&format!("find /etc/systemd -name {UNIT} 2>/dev/null || true"))?;
    expect_eq("enable links of the unit after install", &enabled, "")?;

    let output = verify(chroot)
        .env("SYSTEMD_LOG_LEVEL", "debug")
        .output()
        .map_err(|e| format!("systemd-analyze (package systemd): {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    let capabilities = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("CapabilityBoundingSet:"))
        .map(str::trim);
    if !output.status.success() || capabilities != Some(CAPABILITIES) {
        return Err(format!(
            "systemd-analyze verify {UNIT}: {}, capabilities {capabilities:?} (want {CAPABILITIES:?}):\n{text}",
            output.status
        ));
    }
    // At the default log level: not a word.
    let output = verify(chroot).output().map_err(|e| format!("systemd-analyze: {e}"))?;
    let said = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    if !output.status.success() || !said.is_empty() {
        return Err(format!("systemd-analyze verify {UNIT}: {}:\n{said}", output.status));
    }
    Ok(())
}

/// `systemd-analyze verify` of the installed unit, inside the working copy
/// (its systemd, not running: verify only loads the unit and what it needs).
fn verify(chroot: &Chroot) -> Command {
    let mut command = chroot.command("systemd-analyze");
    command.args(["verify", "--man=no", UNIT]);
    command
}
