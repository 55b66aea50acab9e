//! The command line, and the environment variables the libraries read at
//! AddProbe, set around one measurement.

/// A group of figures, run in this order; `--only` picks some.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Figures 1 and 1b: start-up and cleanup() times.
    Startup,
    /// Figure 2: memory.
    Memory,
    /// Figures 3, 3b-3d, 3f and 5: TCP overhead beside its floor, and delivery.
    Tcp,
    /// Figures 4 and 4b-4f: UDP overhead beside its floor and peer.
    Udp,
    /// Figure 6: consumer throughput.
    Consumer,
    /// Figure 7: the TCP peer (bpftrace tcplife).
    TcpPeer,
}

impl Group {
    const ALL: [(Self, &'static str); 6] = [
        (Self::Startup, "startup"),
        (Self::Memory, "memory"),
        (Self::Tcp, "tcp"),
        (Self::Udp, "udp"),
        (Self::Consumer, "consumer"),
        (Self::TcpPeer, "tcp-peer"),
    ];
}

/// What to run and how much.
#[derive(Debug)]
pub struct Options {
    pub rounds: usize,
    pub tcp_connections: usize,
    pub udp_pairs: usize,
    pub out: Option<String>,
    /// `None`: every group.
    pub only: Option<Vec<Group>>,
    /// The commit measured, given where git cannot tell (in a VM); else
    /// asked of git.
    pub commit: Option<String>,
    /// The command that started this run, for RESULTS.md (`--run-by`:
    /// `bench`, the default, or `matrix`).
    pub run_by: &'static str,
}

impl Options {
    /// Whether `group` is to run.
    pub fn runs(&self, group: Group) -> bool {
        self.only.as_ref().is_none_or(|only| only.contains(&group))
    }

    /// The command line that reproduces this run, for RESULTS.md.
    pub fn command_line(&self) -> String {
        let mut line = format!(
            "interceptor-bench --rounds {} --tcp-connections {} --udp-pairs {}",
            self.rounds, self.tcp_connections, self.udp_pairs
        );
        if let Some(only) = &self.only {
            let names: Vec<&str> = Group::ALL
                .iter()
                .filter(|(group, _)| only.contains(group))
                .map(|(_, name)| *name)
                .collect();
            line.push_str(&format!(" --only {}", names.join(",")));
        }
        line
    }
}

fn usage(problem: &str) -> ! {
    eprintln!("interceptor-bench: {problem}");
    eprintln!(
        "usage: interceptor-bench [--rounds N] [--tcp-connections N] [--udp-pairs N] \
         [--only startup,memory,tcp,udp,consumer,tcp-peer] [--out PATH] [--commit REV] [--run-by bench|matrix]"
    );
    std::process::exit(2)
}

/// Parses the command line (exits with a usage line on a bad one).
pub fn parse() -> Options {
    let mut options = Options {
        rounds: 5,
        tcp_connections: 20_000,
        udp_pairs: 200_000,
        out: None,
        only: None,
        commit: None,
        run_by: "./run.sh bench",
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_default();
        let number = |current: usize| value.parse().unwrap_or(current).max(1);
        match arg.as_str() {
            "--rounds" => options.rounds = number(options.rounds),
            "--tcp-connections" => options.tcp_connections = number(options.tcp_connections),
            "--udp-pairs" => options.udp_pairs = number(options.udp_pairs),
            "--out" => options.out = Some(value),
            "--commit" => options.commit = Some(value),
            "--run-by" => {
                options.run_by = match value.as_str() {
                    "bench" => "./run.sh bench",
                    "matrix" => "cargo xtask matrix --bench-udp",
                    other => usage(&format!("unknown --run-by {other}")),
                }
            }
            "--only" => {
                let groups = value.split(',').map(|name| {
                    Group::ALL
                        .iter()
                        .find(|(_, known)| *known == name)
                        .map(|(group, _)| *group)
                        .unwrap_or_else(|| usage(&format!("unknown group {name}")))
                });
                options.only = Some(groups.collect());
            }
            other => usage(&format!("unknown option {other}")),
        }
    }
    options
}

/// Environment variables set for one measurement (the libraries read them
/// at AddProbe) and removed again when dropped.
pub struct ScopedEnv {
    keys: Vec<String>,
}

impl ScopedEnv {
    pub fn set(vars: &[(&str, &str)]) -> Self {
        for (key, value) in vars {
            // SAFETY: the bench sets variables only between sessions, when no
            // library thread reads the environment.
            unsafe { std::env::set_var(key, value) };
        }
        Self {
            keys: vars.iter().map(|(key, _)| (*key).to_owned()).collect(),
        }
    }
}

impl Drop for ScopedEnv {
    fn drop(&mut self) {
        for key in &self.keys {
            // SAFETY: as in `set`.
            unsafe { std::env::remove_var(key) };
        }
    }
}
