//! usr/share/doc/<package>/copyright: packaging/deb/copyright with the list
//! of crates the binaries link statically filled in from cargo's dependency
//! graph, so the list cannot fall behind Cargo.lock.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use super::payload::{CRATES, write};
use super::{packaging_file, workspace_root};
use crate::command::run;

/// The licenses whose text packaging/deb/copyright carries, in the order a
/// crate offering several is used under.
const LICENSES_WITH_TEXT: [&str; 2] = ["MIT", "BSD-2-Clause"];

pub fn write_file(dest: &Path) -> Result<(), String> {
    let template = std::fs::read_to_string(packaging_file("copyright")).map_err(|e| format!("copyright: {e}"))?;
    let lines: Vec<String> = linked_crates()?
        .iter()
        .map(|(name, version, expression)| {
            used_under(expression)
                .map(|license| format!(" {name} {version}: {expression}, used under {license}"))
                .ok_or_else(|| {
                    format!(
                        "crate {name} {version} is licensed \"{expression}\": check it and add its text to \
                         packaging/deb/copyright"
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    let text = template.replace("@BUNDLED@", &lines.join("\n"));
    let dir = dest.parent().ok_or("copyright has no directory")?;
    let name = dest.file_name().ok_or("copyright has no name")?;
    write(dir, &name.to_string_lossy(), text.as_bytes(), 0o644)
}

/// (name, version, license expression) of every crate from crates.io whose
/// code ends up in the shipped binaries: normal dependencies, not build
/// scripts, proc-macros or dev-dependencies; the workspace's own crates are
/// the copyright file's `Files: *`.
fn linked_crates() -> Result<BTreeSet<(String, String, String)>, String> {
    let mut tree = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    tree.current_dir(workspace_root()).args([
        "tree",
        "--locked",
        "--offline",
        "--edges",
        "normal,no-proc-macro",
        "--prefix",
        "none",
        "--no-dedupe",
        "--format",
        "{p}\t{l}",
    ]);
    for krate in CRATES {
        tree.args(["-p", krate]);
    }
    let mut found = BTreeSet::new();
    for line in run(&mut tree)?.lines() {
        let Some((package, license)) = line.split_once('\t') else {
            continue;
        };
        // "name vX.Y.Z", or "name vX.Y.Z (/path)" for the workspace's crates.
        let mut words = package.split_whitespace();
        let (Some(name), Some(version), None) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        found.insert((
            name.to_owned(),
            version.trim_start_matches('v').to_owned(),
            license.trim().to_owned(),
        ));
    }
    if found.is_empty() {
        return Err("cargo tree listed no crates".into());
    }
    Ok(found)
}

/// The license a crate is used under: the first of LICENSES_WITH_TEXT its
/// expression offers as a choice ("A WITH exception" is one choice). None
/// for anything else (a conjunction, a license without its text here): a
/// person must look.
fn used_under(expression: &str) -> Option<&'static str> {
    if expression.contains(" AND ") || expression.contains('(') {
        return None;
    }
    let choices: Vec<&str> = expression.split(" OR ").flat_map(|choice| choice.split('/')).collect();
    LICENSES_WITH_TEXT
        .into_iter()
        .find(|license| choices.iter().any(|choice| choice.trim() == *license))
}

#[cfg(test)]
mod tests {
    use super::used_under;

    #[test]
    fn a_crate_is_used_under_a_license_whose_text_is_shipped() {
        assert_eq!(used_under("MIT OR Apache-2.0"), Some("MIT"));
        assert_eq!(used_under("Apache-2.0/MIT"), Some("MIT"));
        assert_eq!(used_under("LGPL-2.1-only OR BSD-2-Clause"), Some("BSD-2-Clause"));
        assert_eq!(used_under("MIT"), Some("MIT"));
        assert_eq!(used_under("Apache-2.0"), None);
        assert_eq!(used_under("(MIT OR Apache-2.0) AND Unicode-3.0"), None);
        assert_eq!(
            used_under("Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT"),
            Some("MIT")
        );
        assert_eq!(used_under("Apache-2.0 WITH LLVM-exception"), None);
    }
}
