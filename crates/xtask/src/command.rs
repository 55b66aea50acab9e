//! Running the tools the tasks drive (cargo, dpkg, apt, mount, ...): a
//! failure becomes one message naming the command and what it said.

use std::process::Command;

/// Runs `command` and returns its stdout; a failure carries its stderr.
pub fn run(command: &mut Command) -> Result<String, String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs `command` with its output going where ours goes (long steps whose
/// progress a user should see: cargo build, debootstrap).
pub fn show(command: &mut Command) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("{command:?}: {e}"))?;
    if !status.success() {
        return Err(format!("{command:?} failed: {status}"));
    }
    Ok(())
}
