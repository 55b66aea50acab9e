//! The results table: each figure printed as it is measured, then written
//! as markdown (RESULTS.md) with the command, commit and machine.

use std::io::Write as _;
use std::process::Command;
use std::thread;
use std::time::Instant;

use crate::options::Options;
use crate::overhead::Rounds;

/// One line of the results table.
struct Row {
    figure: String,
    min: String,
    median: String,
    goal: String,
    notes: String,
}

/// The figures measured so far.
#[derive(Default)]
pub struct Report {
    rows: Vec<Row>,
}

impl Report {
    /// Prints a figure and keeps it for the table.
    pub fn add(&mut self, figure: &str, (min, median): (String, String), goal: &str, notes: String) {
        println!("{figure}: min {min}, median {median} (goal {goal}) {notes}");
        self.rows.push(Row {
            figure: figure.into(),
            min,
            median,
            goal: goal.into(),
            notes,
        });
    }

    /// The markdown table, under its header.
    fn table(&self, options: &Options, began: Instant) -> String {
        let commit = options.commit.clone().unwrap_or_else(|| {
            Command::new("git")
                .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "--short", "HEAD"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_default()
        });
        let mut table = format!(
            "# Benchmark results\n\nCommand: `{}` (`{}`), commit {commit}, \
             {:.0} s.\nMachine: {}.\nOverheads compare each traced loop with the mean of the untraced loops around it; \
             minimum and median over the rounds. The machine is shared: single rounds can be far off, the minimum is the least disturbed.\n\n\
             | figure | min | median | goal | notes |\n|---|---|---|---|---|\n",
            options.run_by,
            options.command_line(),
            began.elapsed().as_secs_f64(),
            machine()
        );
        for row in &self.rows {
            table.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                row.figure, row.min, row.median, row.goal, row.notes
            ));
        }
        table
    }

    /// Writes the table to `--out`, if given.
    pub fn write(&self, options: &Options, began: Instant) {
        if let Some(path) = &options.out {
            let mut out = std::fs::File::create(path).unwrap();
            let _ = out.write_all(self.table(options, began).as_bytes());
            println!("written to {path}");
        }
    }
}

/// (minimum, median) of `values`.
pub fn min_median(values: &[f64]) -> (f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    (sorted[0], sorted[sorted.len() / 2])
}

/// Throughput lost as table cells: "+3.1 %".
pub fn percent(rounds: &Rounds) -> (String, String) {
    let (min, median) = min_median(&rounds.lost);
    (format!("{min:+.1} %"), format!("{median:+.1} %"))
}

/// Throughput lost and time added per operation as table cells:
/// "+3.1 % (+187 ns/pair)".
pub fn percent_and_ns(rounds: &Rounds, per: &str) -> (String, String) {
    let (min, median) = percent(rounds);
    let (min_ns, median_ns) = min_median(&rounds.added_ns);
    (
        format!("{min} ({min_ns:+.0} ns/{per})"),
        format!("{median} ({median_ns:+.0} ns/{per})"),
    )
}

/// The rounds' throughput lost, in order: "+3.1, +2.3, ...".
pub fn rounds_text(values: &[f64]) -> String {
    values.iter().map(|v| format!("{v:+.1}")).collect::<Vec<_>>().join(", ")
}

/// Cores, CPU model and kernel.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = String::from_utf8_lossy(
        &Command::new("uname")
            .arg("-r")
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default(),
    )
    .trim()
    .to_owned();
    format!("{cores} cores ({cpu}), kernel {kernel}")
}
