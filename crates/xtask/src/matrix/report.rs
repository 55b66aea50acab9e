//! Reading what a kernel's run printed (MATRIX lines), judging each cell
//! against crates/xtask/kernels.conf, and the table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::kernels::Kernel;
use super::{LIBRARIES, Library};

/// What one kernel's run said.
#[derive(Debug, Default)]
pub struct Outcome {
    /// `uname -r` of the kernel that ran.
    pub release: String,
    /// (lib, path) -> (probe result, reason)
    probes: BTreeMap<(String, String), (String, String)>,
    /// (lib, path or "auto") -> passed / failed / flaky
    cells: BTreeMap<(String, String), String>,
    /// lib -> the path AddProbe chose
    auto: BTreeMap<String, String>,
    /// The run reached `MATRIX done` on its own.
    pub completed: bool,
}

/// Parses the MATRIX lines of a run; `completed` says whether it ended on
/// its own (not stopped by the watchdog).
pub fn parse(output: &str, completed: bool) -> Outcome {
    let mut outcome = Outcome {
        completed,
        ..Outcome::default()
    };
    let mut done = false;
    for line in output.lines() {
        let Some(at) = line.find("MATRIX ") else { continue };
        let words: Vec<&str> = line[at..].split_whitespace().collect();
        match words.get(1..) {
            Some(["kernel", release, ..]) => outcome.release = (*release).to_owned(),
            Some(["probe", lib, path, result, reason @ ..]) => {
                outcome.probes.insert(
                    (lib.to_string(), path.to_string()),
                    (result.to_string(), reason.join(" ")),
                );
            }
            Some(["cell", lib, path, status, rest @ ..]) => {
                outcome
                    .cells
                    .insert((lib.to_string(), path.to_string()), status.to_string());
                if *path == "auto" {
                    outcome
                        .auto
                        .insert(lib.to_string(), rest.first().copied().unwrap_or("").to_owned());
                }
            }
            Some(["done"]) => done = true,
            _ => {}
        }
    }
    outcome.completed &= done;
    outcome
}

/// Shell-style match with `*` only.
fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else { return false };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else { return false };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

/// A cell's verdict as the table prints it. A cell that failed once and
/// passed when rerun is FLAKY: printed, counted and failing the run, never
/// hidden.
fn cell_verdict(status: Option<&str>, suffix: &str) -> String {
    match status {
        Some("passed") => format!("passed{suffix}"),
        Some("flaky") => format!("FLAKY{suffix}"),
        _ => format!("failed{suffix}"),
    }
}

/// The verdicts of one kernel's cells.
#[derive(Debug, Default)]
pub struct Verdicts {
    /// (column, verdict)
    pub cells: Vec<(String, String)>,
    /// Every cell passed or was correctly unsupported.
    pub ok: bool,
    /// Cells that failed once and passed on their rerun.
    pub flaky: usize,
}

/// Each cell's verdict, for the libraries the run tested.
pub fn judge(kernel: &Kernel, libraries: &[&Library], outcome: &Outcome) -> Verdicts {
    let expectations = kernel.package.is_some() || glob_match(&kernel.version, &outcome.release);
    let mut verdicts = Verdicts {
        ok: outcome.completed,
        ..Verdicts::default()
    };
    for library in libraries {
        let supported = kernel.supported.get(library.name).cloned().unwrap_or_default();
        let paths = library.paths();
        for path in &paths {
            let key = (library.name.to_owned(), (*path).to_owned());
            let expected = supported.iter().any(|p| p == path);
            let verdict = match (outcome.probes.get(&key), outcome.cells.get(&key)) {
                (None, _) => "failed (no result)".to_owned(),
                (Some((probe, _)), cell) if probe == "1" => {
                    if expected || !expectations {
                        cell_verdict(cell.map(String::as_str), "")
                    } else {
                        "failed (supported, expected not)".to_owned()
                    }
                }
                (Some((probe, reason)), _) if probe == "0" => {
                    if expected && expectations {
                        format!("failed (unsupported: {reason})")
                    } else {
                        "unsupported".to_owned()
                    }
                }
                (Some((probe, reason)), _) => format!("failed (probe {probe}: {reason})"),
            };
            verdicts.flaky += usize::from(verdict.starts_with("FLAKY"));
            verdicts.ok &= verdict == "passed" || verdict == "unsupported";
            verdicts.cells.push((format!("{}:{path}", library.name), verdict));
        }
        let key = (library.name.to_owned(), "auto".to_owned());
        let chosen = outcome.auto.get(library.name).cloned().unwrap_or_default();
        let first_supported = paths.iter().find(|p| supported.iter().any(|s| s == *p)).copied();
        let verdict = if expectations && first_supported != Some(chosen.as_str()) {
            format!(
                "failed (chose {chosen}, expected {})",
                first_supported.unwrap_or("none")
            )
        } else {
            cell_verdict(outcome.cells.get(&key).map(String::as_str), &format!(" ({chosen})"))
        };
        verdicts.flaky += usize::from(verdict.starts_with("FLAKY"));
        verdicts.ok &= verdict.starts_with("passed");
        verdicts.cells.push((format!("{}:auto", library.name), verdict));
    }
    verdicts
}

/// The table: one row per kernel, one column per library:path.
pub fn table(rows: &[(String, Vec<(String, String)>)]) -> String {
    let columns: Vec<String> = LIBRARIES
        .iter()
        .flat_map(|l| {
            l.paths()
                .into_iter()
                .map(|p| format!("{}:{p}", l.name))
                .chain([format!("{}:auto", l.name)])
        })
        .collect();
    let mut table = format!(
        "| kernel | {} |\n|---|{}\n",
        columns.join(" | "),
        "---|".repeat(columns.len())
    );
    for (row, verdicts) in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| {
                verdicts
                    .iter()
                    .find(|(k, _)| k == c)
                    .map_or_else(|| "-".to_owned(), |(_, v)| v.clone())
            })
            .collect();
        let _ = writeln!(table, "| {row} | {} |", cells.join(" | "));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flaky_cells_fail_the_run_and_are_counted() {
        let kernel = Kernel {
            id: "host".into(),
            package: None,
            version: "*".into(),
            supported: [
                ("tcp".to_owned(), vec!["tp_btf".to_owned()]),
                ("udp".to_owned(), vec!["tp_btf".to_owned()]),
            ]
            .into(),
        };
        let mut output = String::from("MATRIX kernel 6.18\n");
        for library in &LIBRARIES {
            for path in library.paths() {
                let supported = path == "tp_btf";
                let _ = writeln!(output, "MATRIX probe {} {path} {}", library.name, u8::from(supported));
                if supported {
                    let status = if library.name == "tcp" { "flaky" } else { "passed" };
                    let _ = writeln!(output, "MATRIX cell {} {path} {status}", library.name);
                }
            }
            let _ = writeln!(output, "MATRIX cell {} auto passed tp_btf", library.name);
        }
        output.push_str("MATRIX done\n");
        let libraries: Vec<&Library> = LIBRARIES.iter().collect();
        let verdicts = judge(&kernel, &libraries, &parse(&output, true));
        assert_eq!(verdicts.flaky, 1);
        assert!(!verdicts.ok);
        assert!(verdicts.cells.contains(&("tcp:tp_btf".to_owned(), "FLAKY".to_owned())));
        assert!(
            verdicts
                .cells
                .contains(&("udp:auto".to_owned(), "passed (tp_btf)".to_owned()))
        );
        // A run of one library's part is judged on that library's cells only.
        let verdicts = judge(&kernel, &[&LIBRARIES[1]], &parse(&output, true));
        assert!(verdicts.ok);
        assert!(verdicts.cells.iter().all(|(column, _)| column.starts_with("udp:")));
        assert_eq!(verdicts.cells.len(), LIBRARIES[1].paths().len() + 1);
    }
}
