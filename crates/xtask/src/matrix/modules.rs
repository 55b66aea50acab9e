//! Kernel modules the suites need in the guest: nf_tables, for the nftables
//! rules the extended-event tests drop packets with (Debian builds it as a
//! module). They come from the kernel's own package, resolved with their
//! dependencies (read from each module's .modinfo `depends=`, since the
//! package has no modules.dep before depmod runs), decompressed here, and
//! loaded by the guest's init in dependency order. They travel in a second
//! cpio archive appended to the shared initramfs: the kernel unpacks
//! concatenated archives in turn.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::kernels::run;

/// The modules the suites need (their dependencies follow).
const NEEDED: &[&str] = &["nf_tables"];

/// The init lines that load them: each module listed in the order file.
pub const LOAD: &str = r#"modules=/lib/modules/$(uname -r)
if [ -f $modules/load-order ]; then
    for m in $(cat $modules/load-order); do
        insmod $modules/$m.ko || echo "MATRIX module $m did not load"
    done
fi"#;

/// A module's name as the kernel spells it (dashes are underscores).
fn module_name(file: &Path) -> String {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.split(".ko").next().unwrap_or_default().replace('-', "_")
}

/// Every module file under `dir`, by name.
fn index(dir: &Path, found: &mut BTreeMap<String, PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        if path.is_dir() {
            index(&path, found);
        } else if path.to_string_lossy().contains(".ko") {
            found.insert(module_name(&path), path);
        }
    }
}

/// A module's bytes, decompressed (Debian compresses with xz from 6.x).
fn read_module(file: &Path) -> Result<Vec<u8>, String> {
    if file.extension().is_some_and(|e| e == "xz") {
        let output = Command::new("xz")
            .arg("-dc")
            .arg(file)
            .output()
            .map_err(|e| format!("xz: {e}"))?;
        if !output.status.success() {
            return Err(format!("xz -dc {} failed", file.display()));
        }
        Ok(output.stdout)
    } else {
        fs::read(file).map_err(|e| format!("{}: {e}", file.display()))
    }
}

/// The `depends=` of a module's .modinfo.
fn depends(bytes: &[u8]) -> Vec<String> {
    const KEY: &[u8] = b"depends=";
    let Some(at) = bytes.windows(KEY.len()).position(|w| w == KEY) else {
        return Vec::new();
    };
    let value = &bytes[at + KEY.len()..];
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    String::from_utf8_lossy(&value[..end])
        .split(',')
        .filter(|d| !d.is_empty())
        .map(|d| d.replace('-', "_"))
        .collect()
}

/// Adds `name` after its dependencies to `order` (depth first).
fn resolve(name: &str, files: &BTreeMap<String, PathBuf>, order: &mut Vec<(String, Vec<u8>)>) -> Result<(), String> {
    if order.iter().any(|(done, _)| done == name) {
        return Ok(());
    }
    let file = files
        .get(name)
        .ok_or(format!("module {name} is not in the kernel package"))?;
    let bytes = read_module(file)?;
    for dependency in depends(&bytes) {
        resolve(&dependency, files, order)?;
    }
    order.push((name.to_owned(), bytes));
    Ok(())
}

/// The modules of the kernel whose vmlinuz is `vmlinuz` (in its unpacked
/// package), as a gzipped cpio archive to append to the initramfs.
pub fn modules_archive(work: &Path, vmlinuz: &Path) -> Result<PathBuf, String> {
    let unpacked = vmlinuz
        .parent()
        .and_then(Path::parent)
        .ok_or("vmlinuz outside a package")?;
    let release = vmlinuz
        .file_name()
        .map(|n| n.to_string_lossy().trim_start_matches("vmlinuz-").to_owned())
        .unwrap_or_default();
    let tree = unpacked.join("lib/modules").join(&release);
    let mut files = BTreeMap::new();
    index(&tree, &mut files);
    let mut order = Vec::new();
    for name in NEEDED {
        resolve(name, &files, &mut order)?;
    }
    let staging = work.join(format!("modules-{release}"));
    let _ = fs::remove_dir_all(&staging);
    let target = staging.join("lib/modules").join(&release);
    fs::create_dir_all(&target).map_err(|e| e.to_string())?;
    for (name, bytes) in &order {
        fs::write(target.join(format!("{name}.ko")), bytes).map_err(|e| e.to_string())?;
    }
    let names: Vec<&str> = order.iter().map(|(name, _)| name.as_str()).collect();
    fs::write(target.join("load-order"), names.join("\n") + "\n").map_err(|e| e.to_string())?;
    let archive = work.join(format!("modules-{release}.cpio.gz"));
    run(Command::new("sh").current_dir(&staging).arg("-c").arg(format!(
        "find . | cpio -o -H newc --quiet | gzip -1 > '{}'",
        archive.display()
    )))?;
    Ok(archive)
}

/// `base` with `extra` appended, as the image for one kernel.
pub fn append(base: &Path, extra: &Path, out: &Path) -> Result<(), String> {
    let mut bytes = fs::read(base).map_err(|e| format!("{}: {e}", base.display()))?;
    bytes.extend(fs::read(extra).map_err(|e| format!("{}: {e}", extra.display()))?);
    fs::write(out, bytes).map_err(|e| format!("{}: {e}", out.display()))
}
